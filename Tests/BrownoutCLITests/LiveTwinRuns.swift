import Testing

/// The suites that run the live twin (a load generator, the upstreams and a gateway or two, near
/// the machine's two cores at their scale) run one after another: two twins at once, beside the
/// rest of `make test`, slowed each other until a run measured the machine rather than the
/// product.
@Suite("the live twin's suites, one at a time", .serialized)
enum LiveTwinRuns {}
