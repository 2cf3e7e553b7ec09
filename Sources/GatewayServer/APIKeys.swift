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
        guard var bytes = header.map({ Array($0.utf8) }), bytes.count > 7,
              String(decoding: bytes[..<7], as: UTF8.self).lowercased() == "bearer " else { return nil }
        bytes.removeFirst(7)
        while bytes.first == UInt8(ascii: " ") || bytes.first == UInt8(ascii: "\t") { bytes.removeFirst() }
        while bytes.last == UInt8(ascii: " ") || bytes.last == UInt8(ascii: "\t") { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        let digest = SHA256.hash(data: bytes)
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
