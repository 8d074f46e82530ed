/// Helpers for source locations (file paths, rtsp://, http://, /dev/videoN) that may carry credentials.
public enum SourceURL {
    /// The location with any password replaced by `***` (`rtsp://admin:***@cam/stream`), for logs and errors.
    public static func redacted(_ location: String) -> String {
        rewriteUserInfo(location) { userInfo in
            guard let colon = userInfo.firstIndex(of: ":") else { return userInfo }
            return userInfo[..<colon] + ":***"
        }
    }

    /// The location with user name and password removed (`rtsp://cam/stream`), as events' `source_url`.
    public static func withoutCredentials(_ location: String) -> String {
        rewriteUserInfo(location) { _ in nil }
    }

    /// What kind of source a location names.
    public static func kind(of location: String) -> SourceKind {
        let lower = location.lowercased()
        if lower.hasPrefix("rtsp://") || lower.hasPrefix("rtsps://") { return .rtsp }
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") { return .http }
        if lower.hasPrefix("/dev/video") || lower.hasPrefix("v4l2://") { return .device }
        if lower.hasPrefix("pipe:") || location == "-" { return .pipe }
        return .file
    }

    /// Rewrites the `user:pass` part between `scheme://` and `@`, if any; nil removes it with its `@`.
    private static func rewriteUserInfo(_ location: String, _ transform: (Substring) -> Substring?) -> String {
        guard let schemeEnd = location.range(of: "://") else { return location }
        let rest = location[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        // The last "@" ends the user info: passwords may contain "@" when not percent-encoded.
        guard let at = authority.lastIndex(of: "@") else { return location }
        let userInfo = authority[..<at]
        var out = String(location[..<schemeEnd.upperBound])
        if let replaced = transform(userInfo) { out += replaced + "@" }
        out += location[authority.index(after: at)...]
        return out
    }
}

/// The kinds of source PlateStream reads.
public enum SourceKind: String, Sendable, Codable {
    /// A video file on disk.
    case file
    /// An RTSP camera or server.
    case rtsp
    /// An HTTP(S) stream, e.g. MJPEG over multipart/x-mixed-replace.
    case http
    /// A V4L2 capture device such as `/dev/video0`.
    case device
    /// Standard input or a named pipe.
    case pipe

    /// Whether frames arrive in real time and the source should reconnect when it fails.
    public var isLive: Bool { self != .file && self != .pipe }
}
