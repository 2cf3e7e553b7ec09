import Experiments

/// One live request that failed after the warm-up, as its client saw it: the rows of
/// `live-failures.csv`, for reading a miss in availability request by request.
struct LiveFailure: Sendable {
    let team: String
    /// When the request arrived (model nanoseconds from the run's start).
    let arrivedAt: Int64
    /// How it failed, in the simulator's words (the gateway's `x-brownout-failure`; an error event
    /// mid-stream is `failed_after_first_byte`).
    let label: String
    let inputTokens: Int
    let outputTokens: Int
    /// The client's tries (1 + the SDK's retries) and the gateway's attempts over all of them.
    let tries: Int
    let attempts: Int
    /// From the first send to the end of the last try, and the last try alone (model ns).
    let elapsed: Int64
    let lastTry: Int64

    static let csvHeader = ["team", "arrived_s", "label", "input_tokens", "output_tokens", "tries", "gateway_attempts", "elapsed_s", "last_try_s"]

    var csvRow: [String] {
        [
            team, seconds(arrivedAt), label, String(inputTokens), String(outputTokens), String(tries), String(attempts), seconds(elapsed),
            seconds(lastTry),
        ]
    }

    private func seconds(_ nanoseconds: Int64) -> String {
        CSVTable.number(Double(nanoseconds) / 1e9)
    }

    /// The most rows a team keeps (a meltdown fails most requests; the counts stay exact).
    static let limitPerTeam = 50_000
}
