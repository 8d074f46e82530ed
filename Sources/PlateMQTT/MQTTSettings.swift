import Foundation
import PlateCore

/// Where a broker is and how to log in: `mqtt://[user[:password]@]host[:port]` or `mqtts://...` (TLS).
public struct MQTTBrokerURL: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address.
    public var host: String
    /// TCP port (default 1883, or 8883 with TLS).
    public var port: Int
    /// Whether the connection uses TLS (`mqtts`).
    public var usesTLS: Bool
    /// User name, percent-decoded; nil: anonymous.
    public var username: String?
    /// Password, percent-decoded; never logged (`description` hides it).
    public var password: String?

    /// Parses a broker URL; throws `MQTTError.invalidConfiguration` (without the password) when it is not one.
    public init(parsing text: String) throws {
        let shown = SourceURL.redacted(text)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw MQTTError.invalidConfiguration("not a broker URL: \(shown)")
        }
        switch scheme {
        case "mqtt", "tcp": usesTLS = false
        case "mqtts", "ssl", "tls": usesTLS = true
        default: throw MQTTError.invalidConfiguration("broker URL scheme must be mqtt:// or mqtts://, got \(scheme)://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw MQTTError.invalidConfiguration("broker URL has no host: \(shown)")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil else {
            throw MQTTError.invalidConfiguration("broker URL has a path or query, which MQTT does not use: \(shown)")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw MQTTError.invalidConfiguration("broker URL port out of range: \(shown)")
        }
        self.host = host
        self.port = components.port ?? (usesTLS ? 8883 : 1883)
        // URLComponents decodes user and password (`%40` -> `@`); an empty user is none.
        username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        password = components.password
        if password != nil && username == nil {
            throw MQTTError.invalidConfiguration("broker URL has a password but no user name: \(shown)")
        }
    }

    /// `mqtt://user:***@host:port`, for logs.
    public var description: String {
        let user = username.map { $0 + (password == nil ? "" : ":***") + "@" } ?? ""
        return (usesTLS ? "mqtts://" : "mqtt://") + user + host + ":" + String(port)
    }
}

/// Configuration of the MQTT output of a camera (config key `mqtt`, in `defaults` or a camera).
public struct MQTTSettings: Sendable, Hashable {
    /// The broker and the login (`url`).
    public var broker: MQTTBrokerURL
    /// First level(s) of every topic (`topic_prefix`, default `platestream`).
    public var topicPrefix: String
    /// Quality of service of the events and state messages (`qos`, default 1).
    public var qos: Int
    /// Whether `last_plate` is retained so that a subscriber that comes later sees the latest (`retain_state`).
    public var retainState: Bool
    /// Client id prefix (`client_id`, default `platestream`): each camera connects as `<client_id>-<camera>`,
    /// since a broker lets one connection per id and each camera has its own (for its own last will).
    public var clientID: String
    /// CA certificates to check the broker with (`ca_file`); nil: the system's.
    public var caFile: String?
    /// Client certificate (`cert_file`) and key (`key_file`), for brokers that want one; both or neither.
    public var certFile: String?
    /// The client certificate's key (`key_file`).
    public var keyFile: String?
    /// Publish Home Assistant discovery configs for a per-camera "last plate" sensor (`homeassistant_discovery`).
    public var homeAssistantDiscovery: Bool
    /// Home Assistant's discovery prefix (`discovery_prefix`, default `homeassistant`).
    public var discoveryPrefix: String
    /// Keep-alive interval in seconds: how soon a dead connection is noticed, by both sides.
    public var keepAlive: Int
    /// Wait before the first reconnect attempt; doubles up to `maxReconnectDelay`.
    public var minReconnectDelay: Duration
    /// The longest wait between reconnect attempts.
    public var maxReconnectDelay: Duration
    /// How long a publish waits for its acknowledgement before it counts as failed (and is sent again).
    public var publishTimeout: Duration

    /// Settings with the documented defaults.
    public init(broker: MQTTBrokerURL, topicPrefix: String = "platestream", qos: Int = 1, retainState: Bool = true,
                clientID: String = "platestream", caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                homeAssistantDiscovery: Bool = false, discoveryPrefix: String = "homeassistant", keepAlive: Int = 30,
                minReconnectDelay: Duration = .seconds(1), maxReconnectDelay: Duration = .seconds(30),
                publishTimeout: Duration = .seconds(30)) {
        self.broker = broker
        self.topicPrefix = topicPrefix
        self.qos = qos
        self.retainState = retainState
        self.clientID = clientID
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.homeAssistantDiscovery = homeAssistantDiscovery
        self.discoveryPrefix = discoveryPrefix
        self.keepAlive = keepAlive
        self.minReconnectDelay = minReconnectDelay
        self.maxReconnectDelay = maxReconnectDelay
        self.publishTimeout = publishTimeout
    }

    /// Checks what can be checked before start-up: topic prefixes, QoS, client id, TLS files (which must
    /// exist, and only with `mqtts`), delays. Throws `MQTTError.invalidConfiguration` naming the key.
    public func validate() throws {
        try MQTTTopics.checkPrefix(topicPrefix, key: "topic_prefix")
        if homeAssistantDiscovery { try MQTTTopics.checkPrefix(discoveryPrefix, key: "discovery_prefix") }
        guard (0...2).contains(qos) else { throw MQTTError.invalidConfiguration("qos must be 0, 1 or 2, got \(qos)") }
        guard !clientID.isEmpty, clientID.utf8.count <= 200 else {
            throw MQTTError.invalidConfiguration("client_id must be 1 to 200 bytes")
        }
        let files = [("ca_file", caFile), ("cert_file", certFile), ("key_file", keyFile)]
        for (key, path) in files {
            guard let path else { continue }
            guard broker.usesTLS else { throw MQTTError.invalidConfiguration("\(key) needs an mqtts:// broker URL") }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw MQTTError.invalidConfiguration("\(key): cannot read \(path)")
            }
        }
        guard (certFile == nil) == (keyFile == nil) else {
            throw MQTTError.invalidConfiguration("cert_file and key_file go together")
        }
        guard keepAlive >= 5 else { throw MQTTError.invalidConfiguration("keep-alive must be at least 5 s") }
        guard minReconnectDelay > .zero, maxReconnectDelay >= minReconnectDelay, publishTimeout > .zero else {
            throw MQTTError.invalidConfiguration("reconnect delays and publish timeout must be positive, min <= max")
        }
    }
}
