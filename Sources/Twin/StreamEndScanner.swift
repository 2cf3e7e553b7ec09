import NIOCore
import ServerSentEvents

/// How a stream the gateway sent ended, read event by event: its last event (`data: [DONE]`
/// for chat completions, `message_stop` for Messages), an error event (the gateway's word
/// that the answer broke, in either API's shape), or neither (the stream was cut); and the
/// mock's stamps due last (``TwinTiming``).
struct StreamEndScanner {
    enum Ending { case open, done, error }

    private var parser = ServerSentEventParser()
    private(set) var ending = Ending.open
    /// The stamps due last among the events the mock stamped.
    private(set) var lastStamps: (arrival: Int64, due: Int64)?

    mutating func scan(_ chunk: ByteBuffer) {
        parser.consume(chunk) { event in
            guard let data = event.data else { return }
            if event.dataIs("[DONE]") || event.type == "message_stop" {
                ending = .done
            } else if event.dataStarts(with: "{\"error\"") || event.type == "error" {
                if ending == .open { ending = .error }
            } else if let stamps = TwinTiming.latestStamps(in: data), stamps.due >= lastStamps?.due ?? .min {
                lastStamps = stamps
            }
        }
    }
}
