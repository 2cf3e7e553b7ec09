import NIOCore
import ServerSentEvents

/// How a stream the gateway sent ended, read event by event: `data: [DONE]`, an error event
/// (the gateway's word that the answer broke), or neither (the stream was cut); and the mock's
/// stamps on its last stamped event (``TwinTiming``).
struct StreamEndScanner {
    enum Ending { case open, done, error }

    private var parser = ServerSentEventParser()
    private(set) var ending = Ending.open
    /// The stamps of the last event the mock stamped.
    private(set) var lastStamps: (arrival: Int64, due: Int64)?

    mutating func scan(_ chunk: ByteBuffer) {
        parser.consume(chunk) { event in
            guard let data = event.data else { return }
            if event.dataIs("[DONE]") {
                ending = .done
            } else if event.dataStarts(with: "{\"error\"") {
                if ending == .open { ending = .error }
            } else if let stamps = TwinTiming.stamps(in: data, last: true) {
                lastStamps = stamps
            }
        }
    }
}
