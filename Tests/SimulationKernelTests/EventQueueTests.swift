import Testing
@testable import SimulationKernel
import Stochastics

@Suite("Event queue ordering")
struct EventQueueTests {
    @Test("events leave in time order, and in insertion order at equal times")
    func orderIsTimeThenInsertion() {
        var queue = EventQueue()
        let stream = RandomStream(name: "queue", seed: 1, replication: 0)
        // Few distinct times so that ties are common.
        for sequence in 0..<20_000 {
            let time = Int64(stream.uniformInteger(below: 50))
            queue.insert(Event(time: time, sequence: UInt64(sequence), target: HandlerID(rawValue: 0), kind: 0, payload: Int64(sequence)))
        }
        var previous: Event?
        var popped = 0
        while let event = queue.popFirst() {
            if let previous {
                #expect(previous.time < event.time || (previous.time == event.time && previous.sequence < event.sequence))
            }
            previous = event
            popped += 1
        }
        #expect(popped == 20_000)
    }
}
