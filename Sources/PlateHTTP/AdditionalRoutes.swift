public import Hummingbird
public import PlateCore

/// Routes another target serves on the snapshot server's port (the live console): how to add them, and
/// their OpenAPI paths. PlateHTTP does not know what they do; the CLI hands them over.
public struct AdditionalRoutes: Sendable {
    /// Adds the routes to the server's router.
    public var register: @Sendable (Router<BasicRequestContext>) -> Void
    /// Their entries of `/openapi.json`'s `paths`.
    public var openAPIPaths: [(key: String, value: JSONValue)]

    /// Routes added by `register`, documented by `openAPIPaths`.
    public init(openAPIPaths: [(key: String, value: JSONValue)], register: @escaping @Sendable (Router<BasicRequestContext>) -> Void) {
        self.register = register
        self.openAPIPaths = openAPIPaths
    }
}

extension SnapshotServerConfiguration {
    /// Whether `token` is one of the keys' Plate Recognizer tokens, or no key is needed at all (`auth` is
    /// `none`, or no keys on loopback): how `AdditionalRoutes` authenticate like the snapshot APIs. Every key
    /// is compared, so the time taken does not tell which matched.
    public func authorizes(token: String?) -> Bool {
        guard effectiveAuth == .keys else { return true }
        guard let token, !token.isEmpty else { return false }
        var found = false
        for key in keys {
            if let candidate = key.token, constantTimeEquals(candidate, token) { found = true }
        }
        return found
    }
}
