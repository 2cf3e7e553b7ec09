import CGSL

/// Process-wide GSL set-up: the default error handler aborts the process, so it is
/// switched off once, before the first generator exists; GSL status codes are then
/// checked and turned into ``GSLError``.
enum GSL {
    static let prepared: Void = {
        gsl_set_error_handler_off()
    }()

    static func check(_ status: Int32, _ operation: String) throws(GSLError) {
        guard status == GSL_SUCCESS else {
            throw GSLError(status: status, operation: operation)
        }
    }

    /// Γ(x), with GSL's overflow and domain errors as ``GSLError``.
    static func gamma(_ x: Double) throws(GSLError) -> Double {
        _ = prepared
        var result = gsl_sf_result()
        try check(gsl_sf_gamma_e(x, &result), "gamma function at \(x)")
        return result.val
    }
}

/// A GSL call returned a failure status.
public struct GSLError: Error, CustomStringConvertible, Sendable {
    public let status: Int32
    public let operation: String

    public var description: String {
        let reason = String(cString: gsl_strerror(status))
        return "\(operation) failed: \(reason) (GSL status \(status))"
    }
}
