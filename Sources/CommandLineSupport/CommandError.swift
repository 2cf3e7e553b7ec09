/// A user-facing failure found while running a command (a bad parameter value, a file that
/// cannot be read or written): printed as one line, exit status 1.
public struct CommandError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
