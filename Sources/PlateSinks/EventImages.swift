public import Foundation
public import PlateCore

/// Encodes an image as JPEG. PlateSinks does no image coding itself (it must not import PlateVision);
/// the CLI passes `{ try ImageCodec.encodeJPEG($0, quality: 90) }`.
public typealias JPEGEncoder = @Sendable (Image) throws -> Data

/// The pictures that go with one event, and where the frame was saved.
///
/// `EventSink.deliver(_:)` carries no image; sinks that use one adopt `ImageAwareEventSink`
/// and get this alongside the event.
public struct EventImages: Sendable {
    /// The event's best frame (`TrackEvent.bestFrameIndex`), whole.
    public var frame: Image?
    /// The vehicle cut out of the best frame.
    public var vehicleCrop: Image?
    /// The plate cut out of the best frame.
    public var plateCrop: Image?
    /// Name of the saved JPEG of `frame`, relative to the image directory; set by `EventFanout` when an
    /// `EventImageWriter` saved it, written by the JSON sinks as `filename`. Nil: not saved.
    public var filename: String?

    /// Images as given.
    public init(frame: Image? = nil, vehicleCrop: Image? = nil, plateCrop: Image? = nil, filename: String? = nil) {
        self.frame = frame
        self.vehicleCrop = vehicleCrop
        self.plateCrop = plateCrop
        self.filename = filename
    }

    /// No images.
    public static let none = EventImages()

    /// The best frame, with the vehicle and plate crops cut from it along the event's boxes
    /// (each box grown by `padding` of its size on every side, clipped to the frame).
    public init(frame: Image, event: TrackEvent, padding: Double = 0.1) {
        // Why no flatMap closures here: in -O builds, Swift 6.3's SIL ownership verifier asserted on
        // closures capturing `frame` in this initializer (the release build crashed the compiler).
        var vehicleCrop: Image? = nil
        if let box = event.vehicle?.box { vehicleCrop = frame.sinkCrop(box, padding: padding) }
        var plateCrop: Image? = nil
        if let box = event.plateBox { plateCrop = frame.sinkCrop(box, padding: padding) }
        self.init(frame: frame, vehicleCrop: vehicleCrop, plateCrop: plateCrop)
    }
}

/// A sink that uses the event's images (or the saved frame's name) when it has them.
///
/// The pipeline calls `deliver(_:images:)`; plain `deliver(_:)` means "no images".
public protocol ImageAwareEventSink: EventSink {
    /// Hands over one event with its images; same contract as `EventSink.deliver(_:)`.
    func deliver(_ event: TrackEvent, images: EventImages) throws
}

extension ImageAwareEventSink {
    /// Delivers the event without images.
    public func deliver(_ event: TrackEvent) throws {
        try deliver(event, images: .none)
    }
}

extension EventSink {
    /// Delivers with images when the sink takes them, else the event alone.
    public func deliver(_ event: TrackEvent, imagesIfWanted images: EventImages) throws {
        if let aware = self as? any ImageAwareEventSink {
            try aware.deliver(event, images: images)
        } else {
            try deliver(event)
        }
    }
}

extension Image {
    /// A packed copy of the part of the image inside `box` grown by `padding`; nil when that is empty.
    func sinkCrop(_ box: BoundingBox, padding: Double) -> Image? {
        let padX = box.width * padding, padY = box.height * padding
        let x0 = max(0, Int((box.xmin - padX).rounded(.down)))
        let y0 = max(0, Int((box.ymin - padY).rounded(.down)))
        let x1 = min(width, Int((box.xmax + padX).rounded(.up)))
        let y1 = min(height, Int((box.ymax + padY).rounded(.up)))
        guard x1 > x0, y1 > y0 else { return nil }
        return copy(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}
