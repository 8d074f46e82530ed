internal import CMosquitto
import Dispatch
import Foundation
public import Logging
public import PlateCore

/// One camera's connection to an MQTT broker, over libmosquitto: publishes messages and returns once the
/// broker acknowledged them (QoS 1: the PUBACK, matched by message id), and keeps itself connected.
///
/// Each camera has its own connection (client id `<client_id>-<camera>`) because a connection has one last
/// will, and the will is what turns the camera's `status` to `offline` when PlateStream dies. At every
/// (re)connection it publishes `online` and, when enabled, the Home Assistant discovery config (both
/// retained). The network runs on a thread of its own (`mosquitto_loop`, with `mosquitto_threaded_set`; poll(2)
/// for a socket numbered past select's limit),
/// which reconnects with capped exponential backoff (`MQTTReconnectBackoff`) whenever the connection
/// fails or drops, including when the broker is down at start (which `mosquitto_loop_start` does not retry).
///
/// `publish` fails at once while disconnected and fails the messages awaiting a PUBACK when the
/// connection drops: the caller (the durable outbox) keeps them and sends them again, so nothing is lost,
/// and a message whose PUBACK was lost may arrive twice (at least once).
public final class MQTTConnection: MessagePublisher, @unchecked Sendable {
    // Why unchecked: the mosquitto handle is thread-safe once `mosquitto_threaded_set` is on (its own
    // mutexes); everything mutable lives in `state`, behind its lock.

    /// The camera's topics (and the settings).
    public let topics: MQTTTopics
    private let handle: OpaquePointer
    private let state: CallbackState
    private let logger: Logger
    private let threadDone = DispatchSemaphore(value: 0)

    /// Creates the connection (not connected yet: call `start`). Throws `MQTTError` for invalid settings or
    /// when libmosquitto refuses them (a TLS file it cannot load, say).
    public init(topics: MQTTTopics, logger: Logger = Logger(label: "platestream.mqtt")) throws {
        let settings = topics.settings
        try settings.validate()
        _ = Mosquitto.initialized
        self.topics = topics
        var logger = logger
        logger[metadataKey: "broker"] = "\(settings.broker)"
        logger[metadataKey: "camera"] = "\(topics.camera)"
        self.logger = logger
        let state = CallbackState(connectMessages: topics.connectMessages, broker: settings.broker.description, logger: logger)
        self.state = state
        // Clean session: the outbox, not the broker, keeps what is not delivered yet.
        guard let handle = mosquitto_new("\(settings.clientID)-\(topics.cameraLevel)", true,
                                         Unmanaged.passUnretained(state).toOpaque()) else {
            throw MQTTError.library("mosquitto_new", code: Int32(MOSQ_ERR_NOMEM.rawValue))
        }
        self.handle = handle
        // From here a throw still runs deinit (every stored property is set), which frees the handle.
        try Mosquitto.check(mosquitto_threaded_set(handle, true), "mosquitto_threaded_set")
        if let username = settings.broker.username {
            try Mosquitto.check(mosquitto_username_pw_set(handle, username, settings.broker.password), "mosquitto_username_pw_set")
        }
        let will = topics.statusMessage(online: false)
        try Mosquitto.check(mosquitto_will_set(handle, will.topic, Int32(will.payload.utf8.count), will.payload,
                                               Int32(will.qos), will.retain), "mosquitto_will_set")
        if settings.broker.usesTLS {
            if settings.caFile == nil {
                try Mosquitto.check(mosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "mosquitto_int_option(TLS_USE_OS_CERTS)")
            }
            if settings.caFile != nil || settings.certFile != nil {
                // tls_set wants a CA file or folder; without a CA file, Debian's system folder.
                try Mosquitto.check(mosquitto_tls_set(handle, settings.caFile, settings.caFile == nil ? "/etc/ssl/certs" : nil,
                                                      settings.certFile, settings.keyFile, nil), "mosquitto_tls_set")
            }
        }
        // Capture-free closures: C function pointers; the state comes back through the user-data pointer.
        mosquitto_connect_callback_set(handle) { mosq, object, code in
            guard let mosq, let object else { return }
            Unmanaged<CallbackState>.fromOpaque(object).takeUnretainedValue().didConnect(code: code, handle: mosq)
        }
        mosquitto_disconnect_callback_set(handle) { _, object, code in
            guard let object else { return }
            Unmanaged<CallbackState>.fromOpaque(object).takeUnretainedValue().didDisconnect(code: code)
        }
        mosquitto_publish_callback_set(handle) { _, object, messageID in
            guard let object else { return }
            Unmanaged<CallbackState>.fromOpaque(object).takeUnretainedValue().didAcknowledge(messageID)
        }
    }

    deinit {
        // Only reached when the network thread is not running (it holds the connection) or never ran.
        mosquitto_destroy(handle)
    }

    /// Whether the broker accepted the connection and it has not dropped since.
    public var isConnected: Bool { state.withLock { state.isConnected } }

    /// Starts the network thread, which connects and stays connected until `stop`. A broker that is down is
    /// not an error: the thread keeps trying. Call once.
    public func start() {
        let thread = Thread { [self] in
            networkLoop()
            threadDone.signal()
        }
        thread.name = "mqtt-\(topics.cameraLevel)"
        thread.start()
    }

    /// Publishes `message`; returns at its acknowledgement (see `MessagePublisher`). Throws
    /// `MQTTError.notConnected` at once while the connection is down, `connectionLost` when it drops first,
    /// `timedOut` after `publishTimeout`, `CancellationError` when the task is cancelled.
    public func publish(_ message: OutboundMessage) async throws {
        try await publish(message, timeout: topics.settings.publishTimeout)
    }

    private func publish(_ message: OutboundMessage, timeout: Duration) async throws {
        let ticket = Ticket()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Under the lock until the continuation is registered, so the PUBACK callback (which takes
                // the same lock) cannot come first and find nobody waiting.
                state.withLock {
                    guard !ticket.cancelled else { return continuation.resume(throwing: CancellationError()) }
                    guard state.isConnected else {
                        return continuation.resume(throwing: MQTTError.notConnected(state.broker))
                    }
                    var messageID: Int32 = 0
                    let code = Self.send(message, handle: handle, messageID: &messageID)
                    guard code == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
                        return continuation.resume(throwing: MQTTError.library("mosquitto_publish", code: code))
                    }
                    ticket.messageID = messageID
                    state.pending[messageID] = (ticket, continuation)
                    let (state, broker) = (state, state.broker)
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout.dispatchInterval) {
                        state.fail(ticket, with: MQTTError.timedOut(broker, after: timeout))
                    }
                }
            }
        } onCancel: {
            state.fail(ticket, with: CancellationError(), markCancelled: true)
        }
    }

    /// Sends the offline status (the will is not sent on a clean disconnect), disconnects and stops the
    /// network thread, waiting at most a few seconds.
    public func stop() async {
        if isConnected {
            do {
                try await publish(topics.statusMessage(online: false), timeout: .seconds(2))
            } catch {
                logger.debug("offline status not acknowledged", metadata: ["error": "\(error)"])
            }
        }
        state.requestStop()
        _ = mosquitto_disconnect(handle)
        let done = threadDone
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                _ = done.wait(timeout: .now() + 5)
                continuation.resume()
            }
        }
    }

    /// `mosquitto_publish` of one message; returns its code and sets `messageID`.
    static func send(_ message: OutboundMessage, handle: OpaquePointer, messageID: inout Int32) -> Int32 {
        let payload = Array(message.payload.utf8)
        return payload.withUnsafeBytes { bytes in
            mosquitto_publish(handle, &messageID, message.topic, Int32(bytes.count), bytes.baseAddress,
                              Int32(message.qos), message.retain)
        }
    }

    /// Connects, runs the network loop, and reconnects after each failure until `stop`.
    private func networkLoop() {
        let settings = topics.settings
        var backoff = MQTTReconnectBackoff(minimum: settings.minReconnectDelay, maximum: settings.maxReconnectDelay)
        var socketOpen = false
        var everTried = false
        var selectRefused = false
        while !state.stopRequested {
            if !socketOpen {
                let code = everTried ? mosquitto_reconnect(handle)
                    : mosquitto_connect(handle, settings.broker.host, Int32(settings.broker.port), Int32(settings.keepAlive))
                everTried = true
                guard code == Self.success else {
                    let wait = backoff.failed()
                    logFailure("cannot connect to the MQTT broker", code: code, failures: backoff.failures, wait: wait)
                    state.sleep(wait)
                    continue
                }
                socketOpen = true
            }
            let code = loopOnce(selectRefused: &selectRefused)
            if state.stopRequested { break }
            if code == Self.success {
                if backoff.failures > 0, state.withLock({ state.isConnected }) { backoff.connected() }
                continue
            }
            // The connection dropped, or the broker refused it in its CONNACK: start over after a wait.
            socketOpen = false
            let wait = backoff.failed()
            logFailure("MQTT connection lost", code: code, failures: backoff.failures, wait: wait)
            state.sleep(wait)
        }
        _ = mosquitto_loop(handle, 100, 1) // flushes the DISCONNECT that `stop` queued
    }

    /// libmosquitto's "no error" return code, as the loop calls return it.
    private static let success = Int32(MOSQ_ERR_SUCCESS.rawValue)

    /// One turn of the network loop. `mosquitto_loop` waits with select(2) and refuses a socket numbered FD_SETSIZE
    /// (1024) or above with MOSQ_ERR_INVAL, which a process with many descriptors open gets (a server holding
    /// thousands of client connections: the MQTT tests failed so while the 10 000 idle connections test ran beside
    /// them). Such a socket is served with poll(2) and libmosquitto's external-loop calls instead; below the limit
    /// `mosquitto_loop` stays, as it also serves the library's own wake-up pipe and TLS data already decrypted.
    /// The library refuses the same way when its wake-up pipe, made with the handle, is numbered past the limit although
    /// the socket is not (the pipe was made while the process held many descriptors): MOSQ_ERR_INVAL from
    /// `mosquitto_loop`, whose arguments are valid, sets `selectRefused`, and poll(2) serves this handle from then on.
    private func loopOnce(selectRefused: inout Bool) -> Int32 {
        let socket = mosquitto_socket(handle)
        if socket < FD_SETSIZE && !selectRefused {
            let code = mosquitto_loop(handle, 500, 1)
            guard code == Int32(MOSQ_ERR_INVAL.rawValue) else { return code }
            selectRefused = true
            logger.debug("mosquitto_loop refused its descriptors (past FD_SETSIZE); polling the socket instead")
        }
        // A short wait: a publish from another thread wakes the library's pipe, which only mosquitto_loop watches,
        // so queued packets go out at the next turn (mosquitto_want_write asks for POLLOUT at once).
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN) | (mosquitto_want_write(handle) ? Int16(POLLOUT) : 0), revents: 0)
        let ready = poll(&descriptor, 1, 50)
        if ready < 0 && errno != EINTR { return Int32(MOSQ_ERR_ERRNO.rawValue) }
        if ready > 0 && descriptor.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            let code = mosquitto_loop_read(handle, 1)
            if code != Self.success { return code }
        }
        if ready > 0 && descriptor.revents & Int16(POLLOUT) != 0 {
            let code = mosquitto_loop_write(handle, 1)
            if code != Self.success { return code }
        }
        return mosquitto_loop_misc(handle)
    }

    private func logFailure(_ text: String, code: Int32, failures: Int, wait: Duration) {
        // Loud on the first failure and then now and again, not on every attempt of a long outage.
        let level: Logger.Level = RepeatedFailure.isLoud(failures) ? .warning : .debug
        logger.log(level: level, "\(text); retrying", metadata: [
            "error": "\(Mosquitto.describe(code))", "consecutive_failures": "\(failures)", "retry_in": "\(wait)",
        ])
    }
}

/// One publish waiting for its acknowledgement; identity tells a reused message id from the one it was.
final class Ticket: @unchecked Sendable {
    // Why unchecked: read and written only under the CallbackState lock.
    var messageID: Int32?
    var cancelled = false
}

/// What the libmosquitto callbacks (on the network thread) and the publishers share, behind one lock.
final class CallbackState: @unchecked Sendable {
    // Why unchecked: every mutable property is read and written under `lock`.
    private let lock = NSLock()
    private let wakeup = DispatchSemaphore(value: 0)
    var isConnected = false
    var pending: [Int32: (ticket: Ticket, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var stopping = false
    private var refusals = 0
    let connectMessages: [OutboundMessage]
    let broker: String
    let logger: Logger

    init(connectMessages: [OutboundMessage], broker: String, logger: Logger) {
        self.connectMessages = connectMessages
        self.broker = broker
        self.logger = logger
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T { try lock.withLock(body) }

    var stopRequested: Bool { withLock { stopping } }

    func requestStop() {
        withLock { stopping = true }
        wakeup.signal()
    }

    /// Sleeps `duration`, or less when `requestStop` is called.
    func sleep(_ duration: Duration) {
        _ = wakeup.wait(timeout: .now() + duration.dispatchInterval)
    }

    /// CONNACK: on success publish `online` and the discovery config (queued, sent by the loop); else log why.
    func didConnect(code: Int32, handle: OpaquePointer) {
        guard code == 0 else {
            // Loud on the first refusal and then now and again: a wrong password is retried with backoff.
            let count = withLock {
                refusals += 1
                return refusals
            }
            let level: Logger.Level = RepeatedFailure.isLoud(count) ? .error : .debug
            logger.log(level: level, "MQTT broker refused the connection",
                       metadata: ["reason": "\(Mosquitto.describeConnack(code))", "consecutive_refusals": "\(count)"])
            return
        }
        withLock {
            isConnected = true
            refusals = 0
        }
        logger.info("connected to the MQTT broker")
        for message in connectMessages {
            var messageID: Int32 = 0
            let result = MQTTConnection.send(message, handle: handle, messageID: &messageID)
            if result != 0 {
                logger.warning("state message not sent", metadata: ["topic": "\(message.topic)", "error": "\(Mosquitto.describe(result))"])
            }
        }
    }

    /// The connection ended: every publish awaiting its acknowledgement fails (the outbox sends it again).
    func didDisconnect(code: Int32) {
        let (wasConnected, waiting) = withLock {
            defer {
                isConnected = false
                pending.removeAll()
            }
            return (isConnected, pending.values.map(\.continuation))
        }
        // Only a connection that was up is news; refused attempts are logged by `didConnect` and the loop.
        if wasConnected, code != 0 {
            logger.warning("MQTT connection dropped", metadata: ["error": "\(Mosquitto.describe(code))"])
        }
        for continuation in waiting { continuation.resume(throwing: MQTTError.connectionLost(broker)) }
    }

    /// PUBACK (QoS 1), PUBCOMP (QoS 2) or sent (QoS 0) of `messageID`. An id nobody waits for (a message
    /// the library sent again after a reconnection, the state messages) is ignored.
    func didAcknowledge(_ messageID: Int32) {
        let waiting = withLock { pending.removeValue(forKey: messageID) }
        waiting?.continuation.resume()
    }

    /// Fails the publish of `ticket`, if it is still waiting.
    func fail(_ ticket: Ticket, with error: any Error, markCancelled: Bool = false) {
        let waiting: CheckedContinuation<Void, any Error>? = withLock {
            if markCancelled { ticket.cancelled = true }
            guard let id = ticket.messageID, let entry = pending[id], entry.ticket === ticket else { return nil }
            pending.removeValue(forKey: id)
            return entry.continuation
        }
        waiting?.resume(throwing: error)
    }
}

extension Duration {
    /// The duration for Dispatch, to the nanosecond.
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}
