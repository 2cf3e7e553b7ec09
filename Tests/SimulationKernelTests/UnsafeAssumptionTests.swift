import Testing
@testable import SimulationKernel

/// The kernel's unsafe shortcuts, each with the assumption it rests on checked.
@Suite("Unsafe shortcuts: their assumptions hold")
struct UnsafeAssumptionTests {
    /// A large value (passed indirectly), a class (retained), a tuple and a string: if the
    /// bit-cast from `(isolated Self, A) -> R` to `(Self, A) -> R` ever changed the calling
    /// convention, these would come back wrong, or the actor's state would not change.
    struct Wide: Equatable, Sendable { var a, b, c, d, e, f: Int64 }
    final class Box: @unchecked Sendable { var value: Int; init(_ value: Int) { self.value = value } }

    actor Counter: ReplicationActor {
        nonisolated let simulationExecutor: SimulationExecutor
        nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
        var total: Int64 = 0
        init(executor: SimulationExecutor) { simulationExecutor = executor }
        func add(_ wide: Wide) -> Wide {
            total += wide.a + wide.f
            return Wide(a: wide.f, b: wide.e, c: wide.d, d: wide.c, e: wide.b, f: wide.a)
        }
    }

    @Test("entering an actor through the bit-cast entry passes arguments and results intact and runs isolated")
    func enterKeepsTheCallingConvention() {
        let executor = SimulationExecutor()
        let outcome = executor.run {
            let counter = Counter(executor: executor)
            let wide = Wide(a: 1, b: 2, c: 3, d: 4, e: 5, f: 6)
            let reversed = counter.enter(wide) { counter, wide in counter.add(wide) }
            let box = Box(41)
            let same = counter.enter(box) { _, box in
                box.value += 1; return box
            }
            let pair = counter.enter((7, "seven")) { counter, pair in (pair.1 + "!", Int64(pair.0) + counter.total) }
            let total = counter.enter(()) { counter, _ in counter.total }
            return (
                reversed == Wide(a: 6, b: 5, c: 4, d: 3, e: 2, f: 1), same === box && box.value == 42, pair.0 == "seven!" && pair.1 == 14, total == 7
            )
        }
        #expect(outcome.0 && outcome.1 && outcome.2 && outcome.3)
    }

    /// Handlers and peers are held unretained: sound only while the calendar keeps every
    /// registered actor alive. Drop every other reference and they must still be there (and
    /// still be delivered to); once the simulation is gone, they must be released.
    @Test("the calendar keeps registered actors alive for unretained handlers and peers, and releases them with the simulation")
    func calendarOwnsItsActors() {
        let executor = SimulationExecutor()
        let (alive, delivered, released) = executor.run { () -> (Bool, Bool, Bool) in
            weak var weakRecorder: Recorder?
            var peer: PeerReference<Recorder>?
            var simulation: Simulation? = Simulation(executor: executor)
            do {
                let recorder = simulation!.calendar.register { [simulation] in Recorder(id: $0, simulation: simulation!) }
                weakRecorder = recorder
                peer = PeerReference(recorder)
                simulation!.calendar.schedule(at: 5, to: recorder.id, kind: 0, payload: 9)
            }
            // No reference of ours is left: only the calendar's list holds the recorder.
            let alive = weakRecorder != nil
            await simulation!.run()
            let log = peer!.enter(()) { recorder, _ in recorder.log }
            simulation = nil
            peer = nil
            return (alive, log == ["5000000000:0:9"] || log == ["5:0:9"], weakRecorder == nil)
        }
        #expect(alive, "registered actors outlive every outside reference")
        #expect(delivered, "the unretained handler entry reached the recorder")
        #expect(released, "the calendar released its actors with the simulation")
    }
}
