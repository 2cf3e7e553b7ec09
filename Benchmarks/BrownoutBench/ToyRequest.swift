/// A toy request as its events carry it: its number, and with the flagship's draws its output
/// tokens, packed in the event's payload (the number above 20 bits, the tokens in them,
/// capped at 2²⁰ − 1).
struct ToyRequest: Sendable {
    var number: Int
    var outputTokens: Int

    init(number: Int, outputTokens: Int) {
        self.number = number
        self.outputTokens = outputTokens
    }

    init(payload: Int64) {
        number = Int(payload >> 20)
        outputTokens = Int(payload & 0xF_FFFF)
    }

    var payload: Int64 { Int64(number) << 20 | Int64(min(outputTokens, 0xF_FFFF)) }
}
