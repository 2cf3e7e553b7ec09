import ArgumentParser
import CAllocationCounter
import Experiments
import Foundation
import GatewaySim

/// Heap allocations per unit of work on the hot paths, counted by the allocation interposer
/// this executable links (CAllocationCounter). Each workload runs at two sizes and reports the
/// difference per unit, so set-up costs (tables, streams, the spec) cancel out. Counts are
/// deterministic: the same binary and inputs give the same numbers, so a test can hold them to
/// a threshold, as swift-nio's allocation tests do. With BROWNOUT_ALLOCATIONS_DEBUG set, the
/// raw counts of each run go to stderr.
struct AllocationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocations",
        abstract: "Count heap allocations per kernel event, per RoutingCore request and per flagship request; print one JSON object."
    )

    @Option(help: "The flagship spec (default: experiments/april-correlated-529.yaml under the working directory).")
    var spec = "experiments/april-correlated-529.yaml"

    func run() throws {
        // The kernel: the toy model at two durations; per event delivered.
        let (kernelAllocations, kernelEvents) = try marginal(small: 10, large: 40) { seconds in
            UInt64(KernelToy(durationSeconds: seconds).run().events)
        }
        // RoutingCore's common path: per request (two decisions).
        let (routerAllocations, routerRequests) = try marginal(small: 10_000, large: 60_000) { requests in
            _ = try RoutingCoreWorkload.route(requests: Int(requests))
            return UInt64(requests)
        }
        // One flagship replication, one hour and two hours of arrivals: per request.
        let base: ExperimentSpec
        do {
            (_, base, _) = try Experiment.load(path: spec, overrides: [])
        } catch {
            throw ValidationError(error.description)
        }
        let (flagshipAllocations, flagshipRequests) = try marginal(small: 3_600, large: 7_200) { seconds in
            var world = base.world
            world.durationSeconds = seconds
            let result = try World.run(world, seed: base.seed, replication: 0)
            return UInt64(result.teams.reduce(0) { $0 + $1.requests })
        }
        func ratio(_ a: Int64, _ b: UInt64) -> String { String(format: "%.4f", Double(a) / Double(max(1, b))) }
        print(
            """
            {"kernel_allocations_per_event": \(ratio(kernelAllocations, kernelEvents)), "kernel_events": \(kernelEvents), \
            "router_allocations_per_request": \(ratio(routerAllocations, routerRequests)), "router_requests": \(routerRequests), \
            "flagship_allocations_per_request": \(ratio(flagshipAllocations, flagshipRequests)), "flagship_requests": \(flagshipRequests)}
            """
        )
    }

    /// Allocations and units of work of the large run minus those of the small one, after a
    /// first small run that pays the one-time costs (runtime metadata, lazy globals, caches).
    private func marginal(small: Double, large: Double, _ work: (Double) throws -> UInt64) throws -> (allocations: Int64, units: UInt64) {
        _ = try work(small)
        let before = brownout_allocation_count()
        let smallUnits = try work(small)
        let middle = brownout_allocation_count()
        let largeUnits = try work(large)
        let after = brownout_allocation_count()
        let smallAllocations = middle - before, largeAllocations = after - middle
        if ProcessInfo.processInfo.environment["BROWNOUT_ALLOCATIONS_DEBUG"] != nil {
            FileHandle.standardError.write(
                Data(
                    "small: \(smallUnits) units, \(smallAllocations) allocations; large: \(largeUnits) units, \(largeAllocations) allocations\n".utf8)
            )
        }
        return (Int64(largeAllocations) - Int64(smallAllocations), largeUnits - smallUnits)
    }
}
