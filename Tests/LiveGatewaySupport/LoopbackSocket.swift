#if canImport(Glibc)
import ChildProcesses
import Glibc
#endif
import ProcessTestSupport

/// A plain TCP connection to a loopback port, for what an HTTP client will not do: send bytes
/// as written (a body that stops, a malformed chunk), or read an answer slowly with a small
/// receive buffer. Blocking calls: use it off the concurrency pool's threads, or briefly.
public final class LoopbackSocket {
    private let socket: Int32

    /// Connects to 127.0.0.1:`port`; `receiveBufferBytes` sets the kernel's receive buffer
    /// before connecting (what the connection's window starts from).
    public init(port: Int, receiveBufferBytes: Int32? = nil) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ChildProcessFailure("socket: \(errno)") }
        if var size = receiveBufferBytes {
            setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(socket)
            throw ChildProcessFailure("connect to port \(port): \(errno)")
        }
    }

    deinit { Glibc.close(socket) }

    /// Each receive waits at most `seconds` (whole seconds).
    public func receiveTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw ChildProcessFailure("send: \(errno)") }
    }

    /// Up to `limit` bytes as they arrive; nil at the end of the stream, a timeout or an error.
    public func receive(upTo limit: Int = 4_096) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = recv(socket, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[..<count]) : nil
    }
}
