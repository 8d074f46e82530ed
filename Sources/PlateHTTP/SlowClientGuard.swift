import Foundation
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Answers 408 and closes the connection when a client sends its request header or body too slowly
/// (`RequestDeadlines`): one slowloris or trickled upload then holds a connection for a bounded time instead
/// of for ever, and Hummingbird's idle timeout alone cannot do that, since a byte a second is not idle.
///
/// Two handlers share one `RequestDeadlines`: this one, after the HTTP decoder, sees the request parts
/// (head, body, end) and the response's end; `ByteArrivalHandler`, which it puts at the front of the pipeline,
/// sees raw bytes, because the decoder says nothing until a head is complete. Both run on the channel's
/// event loop, so the state needs no lock. A check runs every `tick` while a request is being read.
final class SlowClientGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadlines: RequestDeadlines
    private let tick: TimeAmount
    private var timer: RepeatedTask?
    /// An answer has begun on this connection's current request (then a timeout only closes).
    private var answering = false
    /// The pipeline asked for more bytes and none came yet (when false, the server is the one not reading).
    private var readPending = false
    private var lastTick = ContinuousClock.now
    private let started = ContinuousClock.now

    init(limits: RequestDeadlines.Limits, tick: TimeAmount = .milliseconds(250)) {
        deadlines = RequestDeadlines(limits: limits)
        self.tick = tick
    }

    private var now: Double { (ContinuousClock.now - started).seconds }

    func handlerAdded(context: ChannelHandlerContext) {
        let arrivals = ByteArrivalHandler(onBytes: { [weak self] in self?.bytesArrived(context: context) })
        try? context.pipeline.syncOperations.addHandler(arrivals, position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) { stopTimer() }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            answering = false
            deadlines.headReceived(at: now)
        case .body(let buffer):
            deadlines.bodyReceived(buffer.readableBytes)
        case .end:
            deadlines.requestEnded()
            stopTimer()
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        readPending = true
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: answering = true
        case .end:
            deadlines.responseEnded()
            answering = false
        case .body: break
        }
        context.write(data, promise: promise)
    }

    private func bytesArrived(context: ChannelHandlerContext) {
        readPending = false
        deadlines.bytesArrived(at: now)
        if timer == nil, deadlines.deadline != nil { startTimer(context: context) }
    }

    private func startTimer(context: ChannelHandlerContext) {
        lastTick = ContinuousClock.now
        // Why loop-bound: the repeated task runs on this channel's event loop, where handler and context live.
        let bound = NIOLoopBound((guard: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in
            bound.value.guard.check(context: bound.value.context)
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
    }

    private func check(context: ChannelHandlerContext) {
        let elapsed = (ContinuousClock.now - lastTick).seconds
        lastTick = ContinuousClock.now
        if !readPending { deadlines.serverPaused(for: elapsed) }
        guard case .timeOut(let reason) = deadlines.check(at: now) else {
            if deadlines.deadline == nil { stopTimer() }
            return
        }
        stopTimer()
        guard !answering else {
            context.close(promise: nil)
            return
        }
        let body = ByteBuffer(string: "{\"error\": \"\(reason)\"}")
        var head = HTTPResponse(status: .requestTimeout)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// Passes raw bytes on unchanged and reports that some arrived (for `SlowClientGuard`).
final class ByteArrivalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let onBytes: () -> Void

    init(onBytes: @escaping () -> Void) { self.onBytes = onBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onBytes()
        context.fireChannelRead(data)
    }
}

extension Duration {
    /// The duration in seconds.
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
