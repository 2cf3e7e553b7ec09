/// `POST /mock/faults`: `{"fault": NAME, "count": N}` schedules a fault for the next N
/// requests; `{"default": NAME}` sets the fault for all others; `{"random": {"probability": P,
/// "faults": [NAME…], "seed": S}}` gives each request not scheduled otherwise a fault drawn at
/// random (all faults when `faults` is absent; probability 0 stops).
struct FaultOrder: Decodable {
    var fault: MockFault?
    var count: Int?
    var defaultFault: MockFault?
    var random: MockState.RandomFaults?

    enum CodingKeys: String, CodingKey {
        case fault, count, random
        case defaultFault = "default"
    }
}
