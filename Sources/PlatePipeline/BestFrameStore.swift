import PlateCore

/// Keeps the image of each live track's best frame, following the tracker's outputs, so that an event
/// can go to the sinks with its picture. A pure state machine: outputs in, deliveries out.
///
/// The tracker only ever names frames it has just been given, so the store takes the image of the frame
/// being tracked when it sees `.started` or `.bestFrameChanged` for that frame's index, replaces the
/// track's previous image (which is then freed), hands the image out with the track's `.event`, and
/// forgets the track at `.ended`. At most `limit` images are kept; a track that would go beyond it
/// gets none. Memory is therefore bounded by `limit` frames per camera, whatever the tracker does.
struct BestFrameStore {
    private var images: [TrackID: (frameIndex: Int, picture: FramePicture)] = [:]
    /// Tracks that are live but got no image (store full or unknown frame): never retried, so that a
    /// track does not get a later, worse frame just because room freed up.
    private var imageless: Set<TrackID> = []
    let limit: Int
    private(set) var highWater = 0
    private(set) var unavailable = 0

    init(limit: Int) {
        precondition(limit >= 0, "image limit must not be negative")
        self.limit = limit
    }

    /// Images held now.
    var count: Int { images.count }

    /// Applies a tracker's outputs for `frame` (nil for `flush`), returning the events to deliver, in order.
    mutating func apply(_ outputs: [TrackerOutput], frame: Frame?) -> (deliveries: [EventDelivery], suppressed: Int) {
        var deliveries: [EventDelivery] = []
        var suppressed = 0
        for output in outputs {
            switch output {
            case .started(let track, let frameIndex):
                keep(track, frameIndex: frameIndex, frame: frame, isNew: true)
            case .bestFrameChanged(let track, let frameIndex):
                keep(track, frameIndex: frameIndex, frame: frame, isNew: false)
            case .event(let event):
                let kept = images[event.trackID]
                let picture = kept?.frameIndex == event.bestFrameIndex ? kept?.picture : nil
                if picture == nil && kept != nil { unavailable += 1 }
                deliveries.append(EventDelivery(event: event, bestPicture: picture))
            case .suppressed:
                suppressed += 1
            case .ended(let track):
                images[track] = nil
                imageless.remove(track)
            }
        }
        return (deliveries, suppressed)
    }

    /// Forgets everything (after a flush every track has ended anyway).
    mutating func removeAll() {
        images.removeAll()
        imageless.removeAll()
    }

    private mutating func keep(_ track: TrackID, frameIndex: Int, frame: Frame?, isNew: Bool) {
        if !isNew && imageless.contains(track) { return }
        guard let frame, frame.index == frameIndex else {
            // The tracker named a frame other than the one it was just given: we do not have it.
            images[track] = nil
            imageless.insert(track)
            unavailable += 1
            return
        }
        if images[track] == nil && images.count >= limit {
            imageless.insert(track)
            unavailable += 1
            return
        }
        images[track] = (frameIndex, frame.picture)
        highWater = max(highWater, images.count)
    }
}
