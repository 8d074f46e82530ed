import Foundation
public import PlateCore

/// The topics and payloads of one camera (pure: no connection, easy to test).
///
/// - `<prefix>/<camera>/event`: every event, the Version-2 (or -1) JSON exactly as the JSON Lines and
///   webhook sinks write it; QoS as configured, not retained (each event happens once).
/// - `<prefix>/<camera>/last_plate`: the latest plate as a small JSON object (`plate`, `score`, `region`,
///   `vehicle_type`, `direction`, `timestamp`, `camera_id`); retained (`retain_state`), so it is state.
/// - `<prefix>/<camera>/status`: `online` while connected, `offline` (the connection's last will, or sent
///   at a clean stop); retained.
/// - `<discovery_prefix>/sensor/platestream_<camera>/last_plate/config`: Home Assistant MQTT discovery of a
///   "Last plate" sensor reading the above; retained, re-sent at every connection.
public struct MQTTTopics: Sendable, Hashable {
    /// The settings the topics come from.
    public var settings: MQTTSettings
    /// The camera.
    public var camera: CameraID
    /// The camera's display name (Home Assistant's device name); its id when nil.
    public var cameraName: String?

    /// The topics of `camera` under `settings`.
    public init(settings: MQTTSettings, camera: CameraID, cameraName: String? = nil) {
        self.settings = settings
        self.camera = camera
        self.cameraName = cameraName
    }

    /// The camera as one topic level: its id with `/`, `+`, `#` (and NUL) replaced by `_`.
    public var cameraLevel: String {
        let level = String(camera.rawValue.map { "/+#\u{0}".contains($0) ? "_" : $0 })
        return level.isEmpty ? "_" : level
    }

    /// `<prefix>/<camera>/event`.
    public var eventTopic: String { "\(settings.topicPrefix)/\(cameraLevel)/event" }
    /// `<prefix>/<camera>/last_plate`.
    public var lastPlateTopic: String { "\(settings.topicPrefix)/\(cameraLevel)/last_plate" }
    /// `<prefix>/<camera>/status`.
    public var statusTopic: String { "\(settings.topicPrefix)/\(cameraLevel)/status" }

    /// The camera id as Home Assistant allows in ids and topic node ids: letters, digits, `_` and `-`.
    public var homeAssistantID: String {
        "platestream_" + String(camera.rawValue.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "_" })
    }

    /// `<discovery_prefix>/sensor/platestream_<camera>/last_plate/config`.
    public var discoveryTopic: String { "\(settings.discoveryPrefix)/sensor/\(homeAssistantID)/last_plate/config" }

    /// The messages of one event: the event itself, then (for an event with a plate) the new `last_plate`.
    public func messages(for event: TrackEvent, eventJSON: JSONValue) -> [OutboundMessage] {
        var messages = [OutboundMessage(topic: eventTopic, payload: eventJSON.serialized(), qos: settings.qos, retain: false)]
        if let state = Self.lastPlateState(of: event) {
            messages.append(OutboundMessage(topic: lastPlateTopic, payload: state.serialized(), qos: settings.qos,
                                            retain: settings.retainState))
        }
        return messages
    }

    /// The `last_plate` object of an event; nil for a vehicle without a plate (the last plate stays).
    public static func lastPlateState(of event: TrackEvent) -> JSONValue? {
        guard let plate = event.plate else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return .object([
            ("plate", .string(plate.text)),
            ("score", .number((plate.score * 1000).rounded() / 1000)),
            ("region", plate.region.map { .string($0.code) } ?? .null),
            ("vehicle_type", event.vehicle.map { .string($0.type.rawValue) } ?? .null),
            ("direction", event.direction.map { .integer($0) } ?? .null),
            ("timestamp", .string(formatter.string(from: event.timestamp))),
            ("camera_id", .string(event.cameraID.rawValue)),
        ])
    }

    /// The status message: `online` or `offline`, retained.
    public func statusMessage(online: Bool) -> OutboundMessage {
        OutboundMessage(topic: statusTopic, payload: online ? "online" : "offline", qos: settings.qos, retain: true)
    }

    /// Home Assistant's discovery config of the camera's "Last plate" sensor (MQTT discovery format: the
    /// state comes from `last_plate`'s `plate`, its other fields become attributes, availability follows
    /// `status`, and the sensor belongs to one device per camera).
    public var discoveryConfig: JSONValue {
        .object([
            ("name", .string("Last plate")),
            ("unique_id", .string(homeAssistantID + "_last_plate")),
            ("state_topic", .string(lastPlateTopic)),
            ("value_template", .string("{{ value_json.plate }}")),
            ("json_attributes_topic", .string(lastPlateTopic)),
            ("availability_topic", .string(statusTopic)),
            ("payload_available", .string("online")),
            ("payload_not_available", .string("offline")),
            ("qos", .integer(min(settings.qos, 1))),
            ("icon", .string("mdi:car")),
            ("device", .object([
                ("identifiers", .array([.string(homeAssistantID)])),
                ("name", .string(cameraName ?? camera.rawValue)),
                ("manufacturer", .string("PlateStream")),
                ("model", .string("Licence-plate camera")),
            ])),
        ])
    }

    /// What a connection publishes each time it connects: `online`, then the discovery config when enabled.
    public var connectMessages: [OutboundMessage] {
        var messages = [statusMessage(online: true)]
        if settings.homeAssistantDiscovery {
            messages.append(OutboundMessage(topic: discoveryTopic, payload: discoveryConfig.serialized(), qos: settings.qos,
                                            retain: true))
        }
        return messages
    }

    /// Checks a topic prefix: not empty, no wildcard (`+`, `#`), no empty level (`a//b`, leading or trailing
    /// `/`), no NUL, at most 1000 bytes.
    public static func checkPrefix(_ prefix: String, key: String) throws {
        guard !prefix.isEmpty, prefix.utf8.count <= 1000 else {
            throw MQTTError.invalidConfiguration("\(key) must be 1 to 1000 bytes")
        }
        guard !prefix.contains(where: { $0 == "+" || $0 == "#" || $0 == "\u{0}" }) else {
            throw MQTTError.invalidConfiguration("\(key) \"\(prefix)\" holds an MQTT wildcard (+ or #)")
        }
        guard !prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw MQTTError.invalidConfiguration("\(key) \"\(prefix)\" has an empty level (a leading, trailing or double /)")
        }
    }
}

/// Routes every camera's events to its topics: the `EventMessageRouter` of the MQTT outbox.
public struct MQTTEventRouter: EventMessageRouter {
    /// Each camera's topics; events of other cameras give no message.
    public var topics: [CameraID: MQTTTopics]

    /// A router over these cameras' topics.
    public init(topics: [MQTTTopics]) {
        self.topics = Dictionary(topics.map { ($0.camera, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The camera's event and state messages.
    public func messages(for event: TrackEvent, eventJSON: JSONValue) -> [OutboundMessage] {
        topics[event.cameraID]?.messages(for: event, eventJSON: eventJSON) ?? []
    }
}
