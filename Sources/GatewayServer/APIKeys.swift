import Crypto
import Foundation

/// API key → team, from SHA-256 hashes of the keys (the keys themselves are never stored).
/// A presented key is hashed and compared with every hash in constant time, so neither the
/// match nor its position leaks through timing.
public struct APIKeys: Sendable {
    private let entries: [(team: String, hash: [UInt8])]

    public init(hashes: [(team: String, sha256: String)]) {
        entries = hashes.map { ($0.team, APIKeys.bytes(ofHex: $0.sha256)) }
    }

    /// The team of the key in an `Authorization: Bearer KEY` header, or nil.
    public func team(forAuthorization header: String?) -> String? {
        guard var header else { return nil }
        return header.withUTF8 { bytes -> String? in
            // "Bearer", in any case, then spaces or tabs around the key.
            let scheme = "bearer ".utf8
            guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ APIKeys.lowercased($0) == $1 }) else { return nil }
            func blank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var start = scheme.count
            var end = bytes.count
            while start < end && blank(bytes[start]) { start += 1 }
            while end > start && blank(bytes[end - 1]) { end -= 1 }
            guard start < end else { return nil }
            let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<end]))
            var found: String?
            digest.withUnsafeBytes { digest in
                for entry in entries {
                    var difference: UInt8 = 0
                    for i in 0..<32 { difference |= entry.hash[i] ^ digest[i] }
                    if difference == 0 && found == nil { found = entry.team }
                }
            }
            return found
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Lowercase hex SHA-256 of `key`: what the deployment section lists.
    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(ofHex hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes + Array(repeating: 0, count: max(0, 32 - bytes.count))
    }
}
