/// What a gateway does with an event of an upstream's stream whose data is not JSON (or is
/// not the protocol's event). Such an event never reaches the client either way.
public enum MalformedEventPolicy: String, CaseIterable, Sendable {
    /// Leave it out (logged and counted) and relay the rest: the answer is judged by how the
    /// stream ends, as if the event had never come.
    case drop
    /// The attempt breaks there: before the client has a byte it fails over like a 5xx,
    /// after, the stream ends with an error event.
    case fail
}
