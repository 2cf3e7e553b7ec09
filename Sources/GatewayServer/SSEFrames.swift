import Foundation
import NIOCore

/// Splits an upstream's Server-Sent Events into frames as bytes arrive, and reads each one
/// as far as the gateway must: a `[DONE]`, a JSON chunk (with content, with usage), or not JSON.
struct SSEFrames {
    enum Frame {
        /// A chunk, as its exact bytes (`data: …\n\n`), whether it carries output, and its usage.
        case chunk(ByteBuffer, hasContent: Bool, usage: (input: Int, output: Int)?)
        case done
        case malformed(String)
    }

    private var pending = ByteBuffer()

    mutating func append(_ buffer: ByteBuffer) -> [Frame] {
        var buffer = buffer
        pending.writeBuffer(&buffer)
        var frames: [Frame] = []
        while let end = pending.readableBytesView.firstRange(of: [UInt8(ascii: "\n"), UInt8(ascii: "\n")]) {
            let length = end.upperBound - pending.readerIndex
            guard var raw = pending.readSlice(length: length) else { break }
            let text = raw.readString(length: raw.readableBytes) ?? ""
            frames.append(Self.frame(text))
        }
        pending.discardReadBytes()
        return frames
    }


    static func frame(_ text: String) -> Frame {
        var data = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("data:") { data += line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
        }
        if data.isEmpty { return .chunk(ByteBuffer(string: text), hasContent: false, usage: nil) }
        if data == "[DONE]" { return .done }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else {
            return .malformed(String(data.prefix(80)))
        }
        if object["error"] != nil { return .malformed("the upstream sent an error event: \(String(data.prefix(200)))") }
        var hasContent = false
        if let choices = object["choices"] as? [[String: Any]] {
            hasContent = choices.contains { (($0["delta"] as? [String: Any])?["content"] as? String).map { !$0.isEmpty } ?? false }
        }
        var usage: (Int, Int)?
        if let u = object["usage"] as? [String: Any], let input = u["prompt_tokens"] as? Int, let output = u["completion_tokens"] as? Int {
            usage = (input, output)
        }
        return .chunk(ByteBuffer(string: "data: \(data)\n\n"), hasContent: hasContent, usage: usage)
    }
}
