/// Why a request cannot be sent to an upstream that speaks the other API: something in it has
/// no counterpart there that keeps its meaning (a 400 to the client, before anything is sent).
struct UntranslatableRequest: Error {
    let reason: String

    var error: GatewayError {
        GatewayError(
            status: 400, message: "this request cannot be sent to an upstream of the other API: \(reason)", type: "invalid_request_error",
            code: "untranslatable_request")
    }
}
