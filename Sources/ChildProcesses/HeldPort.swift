#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port this process listens on (the kernel's choice), held until ``close()``:
/// a port in use, for a server that must refuse it; closed at once, a port free now.
public final class HeldPort: @unchecked Sendable {
    public let port: Int
    private var socket: Int32

    public init() throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ChildProcessFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = socket
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            throw ChildProcessFailure("no loopback port to hold: \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Stops holding the port.
    public func close() {
        guard socket >= 0 else { return }
        Glibc.close(socket)
        socket = -1
    }

    deinit { close() }

    /// A loopback port nobody listens on now.
    public static func free() throws -> Int {
        let held = try HeldPort()
        held.close()
        return held.port
    }
}
