import ConfigSchema
import Foundation

/// `sizing.json`: what `brownout size-fallback` searched, for the review notebook's title and
/// for whoever reads `sizing.csv` later, and what the search cost: the sizes it evaluated, the
/// replications it simulated and its wall time (the one field that differs between two runs
/// of the same search, as in `run.json`).
public struct SizingManifest: Codable {
    public let name: String
    public let spec: String
    /// FNV-1a 64 of the resolved spec (includes and overrides applied), in hex.
    public let specHash: String
    public let seed: UInt64
    /// Replications at a size's first look.
    public let replications: Int
    /// Each look of a size's sequential test: its replications and the confidence its
    /// intervals are read at (``SequentialLooks``: the error rate spent over the looks).
    public let looks: [SequentialLooks.Look]
    public let pool: String
    public let slos: [String]
    public let confidence: Double
    public let objective: String
    /// The chosen size (absent when no size up to `maxReplicas` meets every SLO).
    public let answer: Int?
    public let maxReplicas: Int
    /// The smallest size the search could answer: 0 (no pool, taken out of every route) when
    /// the pool is only ever a fallback, else 1.
    public let smallestSizeConsidered: Int
    /// Sizes evaluated.
    public let evaluations: Int
    /// Replications simulated over all sizes (each once: a size's later look adds only new ones).
    public let simulatedReplications: Int
    /// Replications a size read from a run of the same replication at another size, because
    /// the pool's size could not have mattered in it (never as many attempts held as servers).
    public let reusedReplications: Int
    public let wallSeconds: Double
    public let version: String

    enum CodingKeys: String, CodingKey {
        case name, spec, specHash = "spec_hash", seed, replications, looks, pool, slos, confidence, objective, answer
        case maxReplicas = "max_replicas", smallestSizeConsidered = "smallest_size_considered", evaluations, simulatedReplications =
            "simulated_replications"
        case reusedReplications = "reused_replications", wallSeconds = "wall_seconds", version
    }

    init(
        spec: ExperimentSpec, specPath: String, document: SpecValue, looks: [SequentialLooks.Look], pool: String, slos: [String], confidence: Double,
        objective: String, answer: Int?, maxReplicas: Int, smallestSizeConsidered: Int, evaluations: Int, simulatedReplications: Int,
        reusedReplications: Int,
        wallSeconds: Double
    ) {
        name = spec.name
        self.spec = specPath
        specHash = RunManifest.hash(document)
        seed = spec.seed
        replications = spec.replications
        self.looks = looks
        self.pool = pool
        self.slos = slos
        self.confidence = confidence
        self.objective = objective
        self.answer = answer
        self.maxReplicas = maxReplicas
        self.smallestSizeConsidered = smallestSizeConsidered
        self.evaluations = evaluations
        self.simulatedReplications = simulatedReplications
        self.reusedReplications = reusedReplications
        self.wallSeconds = (wallSeconds * 1_000).rounded() / 1_000
        version = RunManifest.version
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }
}
