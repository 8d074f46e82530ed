/// One message for a publish/subscribe broker (MQTT): where it goes, what it says, how hard the broker
/// must try to hand it on, and whether the broker keeps it for subscribers that come later.
///
/// Why in PlateCore: the durable outbox (PlateSinks) and the broker client (PlateMQTT) are adapters that
/// must not import each other; this value and the two protocols below are what they share.
public struct OutboundMessage: Sendable, Hashable {
    /// The topic, e.g. `platestream/gate/event`.
    public var topic: String
    /// The payload, UTF-8 text (JSON for every message PlateStream publishes).
    public var payload: String
    /// Quality of service: 0 at most once, 1 at least once (acknowledged), 2 exactly once.
    public var qos: Int
    /// Whether the broker keeps the message as the topic's current state.
    public var retain: Bool

    /// A message.
    public init(topic: String, payload: String, qos: Int, retain: Bool) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// Sends messages to a broker, one camera's connection.
public protocol MessagePublisher: AnyObject, Sendable {
    /// Publishes `message` and returns once the broker has taken it (QoS 1: its PUBACK; QoS 2: PUBCOMP;
    /// QoS 0: written to the socket). Throws when it could not be sent or acknowledged (the connection is
    /// down or dropped before the acknowledgement): the caller keeps the message and tries again later.
    func publish(_ message: OutboundMessage) async throws
}

/// Turns an event into the messages to publish about it (the event itself, the camera's new state).
public protocol EventMessageRouter: Sendable {
    /// The messages for `event`, in the order they are to be sent; `eventJSON` is the event as the file
    /// and webhook sinks write it (Version 2 or 1).
    func messages(for event: TrackEvent, eventJSON: JSONValue) -> [OutboundMessage]
}
