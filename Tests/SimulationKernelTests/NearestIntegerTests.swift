import Foundation
import Testing
import SimulationKernel
import Stochastics

/// ``NearestInteger`` is `Double.rounded()` then `Int64`, exactly: on the halves and the doubles
/// beside them (where adding ½ and truncating would go wrong), and on seeded random values of
/// every binade below 2⁶².
@Suite("Rounding to the nearest integer")
struct NearestIntegerTests {
    @Test(
        "halves go away from zero, and the doubles beside a half go to their nearer integer",
        arguments: [
            0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
            4_503_599_627_370_495.5, -4_503_599_627_370_495.5, 4_503_599_627_370_497, 9_007_199_254_740_993,
            4.6e18, -4.6e18, 1e-300, -1e-300,
        ])
    func edges(x: Double) {
        #expect(NearestInteger.of(x) == Int64(x.rounded()))
        #expect(NearestInteger.of(x.nextUp) == Int64(x.nextUp.rounded()))
        #expect(NearestInteger.of(x.nextDown) == Int64(x.nextDown.rounded()))
    }

    @Test("equal to rounded() on 200,000 random values from 10⁻³ to 2⁶²")
    func randomValues() {
        let stream = RandomStream(name: "nearest-integer", seed: 29, replication: 0)
        var disagreements = 0
        for index in 0..<200_000 {
            let magnitude = -3 + stream.uniform() * (62 * log10(2.0) + 3)
            var x = (stream.uniform() < 0.5 ? 1 : -1) * pow(10, magnitude)
            // One in four lands on a half or beside one (below 2⁵², where halves exist).
            if index % 4 == 0 && abs(x) < 4e15 { x = x.rounded(.down) + 0.5 }
            if index % 4 == 1 && abs(x) < 4e15 { x = (x.rounded(.down) + 0.5).nextDown }
            if NearestInteger.of(x) != Int64(x.rounded()) { disagreements += 1 }
        }
        #expect(disagreements == 0)
    }
}
