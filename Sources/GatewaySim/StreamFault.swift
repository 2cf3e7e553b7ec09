/// A fault inside a streamed answer that an upstream in some health state commits, named in
/// the state's error mix beside the outcome classes (`errors: {stream_stall: 0.02, …}`). A
/// stream cut partway is the class `failed_after_first_byte`; these are the rest. What each
/// does to a request is the gateway's conduct, not the fault's: the same fault is rescued,
/// cut or harmless depending on the route.
public enum StreamFault: String, CaseIterable, Sendable {
    /// Output stops partway and the connection stays open, silent, until the provider's hang
    /// ends: a gateway cuts it at its idle limit, or at the attempt's limit.
    case stall = "stream_stall"
    /// One event partway through an otherwise complete answer is not JSON: harmless where the
    /// route drops such events, a cut where it fails on them.
    case malformedEvent = "malformed_event"
    /// A complete answer whose stream ends without `[DONE]`: the gateway finishes it, a success.
    case unterminated = "unterminated_stream"
}
