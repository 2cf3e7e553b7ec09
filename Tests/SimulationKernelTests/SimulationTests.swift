import Foundation
import Testing
@testable import SimulationKernel

/// Records every event it receives, and can schedule more.
actor Recorder: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    let calendar: EventCalendar
    private(set) var log: [String] = []

    init(id: HandlerID, simulation: Simulation) {
        self.id = id
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
    }

    func handle(_ event: Event) {
        log.append("\(calendar.now):\(event.kind):\(event.payload)")
        if event.kind == 1 {
            // A follow-up at the same instant goes after everything already scheduled then.
            calendar.schedule(after: 0, to: id, kind: 2, payload: event.payload)
        }
    }

    func note(_ line: String) {
        log.append(line)
    }
}

@Suite("Simulation: ordering, clock, process-style code")
struct SimulationTests {
    @Test("events at the same time are delivered in the order they were scheduled")
    func fifoAtEqualTimes() {
        let executor = SimulationExecutor()
        let log = executor.run {
            let simulation = Simulation(executor: executor)
            let recorder = simulation.calendar.register { Recorder(id: $0, simulation: simulation) }
            let calendar = simulation.calendar
            calendar.schedule(at: 10, to: recorder.id, kind: 0, payload: 1)
            calendar.schedule(at: 5, to: recorder.id, kind: 1, payload: 2)
            calendar.schedule(at: 10, to: recorder.id, kind: 0, payload: 3)
            calendar.schedule(at: 5, to: recorder.id, kind: 0, payload: 4)
            await simulation.run()
            return await recorder.log
        }
        #expect(log == ["5:1:2", "5:0:4", "5:2:2", "10:0:1", "10:0:3"])
    }

    @Test("run(until:) stops before later events and leaves them pending")
    func runUntil() {
        let executor = SimulationExecutor()
        let (log, pending) = executor.run {
            let simulation = Simulation(executor: executor)
            let recorder = simulation.calendar.register { Recorder(id: $0, simulation: simulation) }
            for time in [1, 2, 3, 4] as [Int64] {
                simulation.calendar.schedule(at: time * 1_000_000_000, to: recorder.id, kind: 0, payload: time)
            }
            await simulation.run(until: SimulationInstant(seconds: 2.5))
            return (await recorder.log, simulation.calendar.pendingEventCount)
        }
        #expect(log == ["1000000000:0:1", "2000000000:0:2"])
        #expect(pending == 2)
    }

    @Test("process-style code sleeps on the simulation clock and interleaves deterministically with events")
    func processStyleInterleaves() {
        let executor = SimulationExecutor()
        let log = executor.run {
            let simulation = Simulation(executor: executor)
            let recorder = simulation.calendar.register { Recorder(id: $0, simulation: simulation) }
            let clock = simulation.clock
            simulation.calendar.schedule(at: 1_500_000_000, to: recorder.id, kind: 0, payload: 7)
            simulation.calendar.schedule(at: 2_000_000_000, to: recorder.id, kind: 0, payload: 8)
            simulation.spawn {
                for step in 1...3 {
                    try? await clock.sleep(for: .seconds(1))
                    await recorder.note("\(clock.now.nanoseconds):process:\(step)")
                }
            }
            await simulation.run()
            return await recorder.log
        }
        // At 2 s the event wins: it was scheduled at time 0, the wake-up only at 1 s (FIFO).
        #expect(
            log == [
                "1000000000:process:1",
                "1500000000:0:7",
                "2000000000:0:8",
                "2000000000:process:2",
                "3000000000:process:3",
            ])
    }

    @Test("work that leaks to another thread and calls back into the replication is caught")
    func leakedDetachedTaskIsCaught() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let executor = SimulationExecutor()
            _ = executor.run {
                let simulation = Simulation(executor: executor)
                let recorder = simulation.calendar.register { Recorder(id: $0, simulation: simulation) }
                // A leak: this task runs on the global pool, then enqueues onto the replication.
                Task.detached { await recorder.note("from another thread") }
                // Hold the replication's thread until the leak's enqueue traps, so the leak, not
                // a stall or the end of the replication, is what ends the process. Nothing signals
                // the semaphore: the trap ends the wait, however late the leaked task runs. The
                // timeout only keeps a broken check from hanging the suite.
                _ = DispatchSemaphore(value: 0).wait(timeout: .now() + 120)
                return 0
            }
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("job enqueued from a foreign thread"))
    }

    @Test("a replication whose root task waits forever is reported, not hung")
    func stallIsCaught() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let executor = SimulationExecutor()
            _ = executor.run {
                await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
                return 0
            }
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("the replication stalled"))
    }
}
