/// A user-facing failure found while running a command (a bad parameter value, a file that
/// cannot be read or written): printed as one line, exit status 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
