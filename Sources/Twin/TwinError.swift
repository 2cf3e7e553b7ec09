/// Why a twin could not run, in words a user can act on.
public struct TwinError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
