public import PlateCore

/// The tracker of one camera: a pure state machine from observations to track events.
///
/// Per observation it associates the frame's plates and vehicles with its tracks (box overlap with
/// a constant-velocity prediction, plate-text similarity), starts tracks for what matched nothing,
/// and reports a track once: when it ends (unseen for `maxMissedFrames` observations or
/// `lostTimeout` seconds) or `maxPredictionDelay` seconds after it started, whichever comes first.
/// A plate reported less than `memoryDecay` seconds earlier is not reported again. It reads no
/// clock and does no I/O: time is the observations' media time.
public struct PlateTracker: Tracker {
    /// The camera whose observations this tracker takes.
    public let cameraID: CameraID
    /// The source, without credentials, copied into events.
    public let sourceURL: String
    /// The settings.
    public let configuration: TrackerConfiguration

    private var tracks: [Track] = []
    /// Plates reported, with the media time of the report, for `memoryDecay`.
    private var memory: [(text: String, time: MediaTime)] = []
    private var nextTrackNumber = 1
    private var lastTime: MediaTime?
    private var imageSize = ImageSize(width: 0, height: 0)

    /// A tracker for one camera.
    public init(cameraID: CameraID, sourceURL: String, configuration: TrackerConfiguration = TrackerConfiguration()) {
        self.cameraID = cameraID
        self.sourceURL = sourceURL
        self.configuration = configuration
    }

    /// Tracks alive (reported or not), for metrics.
    public var activeTrackCount: Int { tracks.count }

    /// Takes the next observation of this camera, in media-time order; says what started, what
    /// changed, what to report and what ended.
    public mutating func handle(_ observation: Observation) -> [TrackerOutput] {
        precondition(observation.cameraID == cameraID, "observation of \(observation.cameraID) given to the tracker of \(cameraID)")
        var outputs: [TrackerOutput] = []
        let now = observation.mediaTime
        if let lastTime, now < lastTime {
            // The timeline restarted (a source that reset its clock): what we hold is measured on the
            // old one, so close every track and forget the memory rather than compare across timelines.
            outputs += flush(at: lastTime)
            memory.removeAll()
        }
        lastTime = now
        imageSize = observation.imageSize

        let frame = FrameStamp(index: observation.frameIndex, time: now, wallClock: observation.wallClock)
        // Where the tracked vehicles should be now, before this frame's detections move them.
        let expectedVehicles = tracks.compactMap { $0.vehicleMotion?.predicted(at: now.seconds) }
        let targets = Association.targets(in: observation)
        let matches = Association.match(tracks: tracks, targets: targets, at: now.seconds,
                                        imageSize: observation.imageSize, configuration: configuration)
        var matchedTracks = Set<Int>(), matchedTargets = Set<Int>()
        for match in matches {
            matchedTracks.insert(match.track)
            matchedTargets.insert(match.target)
            // A reported track keeps absorbing frames (for association) but has no event left to
            // illustrate, so the pipeline need not keep any more images for it.
            if tracks[match.track].absorb(targets[match.target], at: frame, imageSize: observation.imageSize),
               !tracks[match.track].reported {
                outputs.append(.bestFrameChanged(tracks[match.track].id, frameIndex: frame.index))
            }
        }
        for index in tracks.indices where !matchedTracks.contains(index) {
            tracks[index].missedFrames += 1
        }
        // Plate boxes this frame already gave to a track (matched, or starting one below).
        var claimedPlates = matchedTargets.compactMap { targets[$0].plate?.box }
        for (index, target) in targets.enumerated() where !matchedTargets.contains(index) {
            // In plate mode a vehicle alone may keep a track going but does not start one.
            guard target.plate != nil || configuration.detectionMode == .vehicle else { continue }
            // A second box on a plate already claimed in this frame is the same plate seen twice (a detector
            // without enough suppression), not a second vehicle: as a track of its own it would report the
            // plate after one sighting, with no direction, and the real track's event would be suppressed.
            if let box = target.plate?.box {
                guard !claimedPlates.contains(where: { $0.iou(box) >= Association.samePlateOverlap }) else { continue }
                claimedPlates.append(box)
            }
            // A vehicle without a plate lying mostly inside a vehicle already tracked is a piece of it (a
            // motion blob that fell apart), not a new vehicle.
            if target.plate == nil, let box = target.vehicle?.box, box.area > 0,
               expectedVehicles.contains(where: { ($0.intersection(box)?.area ?? 0) >= 0.5 * box.area }) {
                continue
            }
            let track = Track(id: TrackID(nextTrackNumber), target: target, frame: frame, imageSize: observation.imageSize)
            nextTrackNumber += 1
            tracks.append(track)
            outputs.append(.started(track.id, frameIndex: frame.index))
        }

        outputs += reportDue(at: now)
        memory.removeAll { now.seconds - $0.time.seconds >= configuration.memoryDecay }
        return outputs
    }

    /// The stream ended at `time`: reports every track not reported yet and ends them all.
    /// The memory of reported plates stays, for a stream that goes on after a reconnect.
    public mutating func flush(at time: MediaTime) -> [TrackerOutput] {
        var outputs: [TrackerOutput] = []
        for var track in tracks {
            if !track.reported && track.isReportable(configuration) { outputs.append(report(&track, reason: .endOfStream, at: time)) }
            outputs.append(.ended(track.id))
        }
        tracks.removeAll()
        return outputs
    }

    /// Reports tracks that are due and removes the ones that ended.
    private mutating func reportDue(at now: MediaTime) -> [TrackerOutput] {
        var outputs: [TrackerOutput] = []
        var alive: [Track] = []
        for var track in tracks {
            let lost = track.isLost(at: now, configuration: configuration, imageSize: imageSize)
            let overdue = now.seconds - track.firstSeen.time.seconds >= configuration.maxPredictionDelay
            if !track.reported && (lost || overdue) && track.isReportable(configuration) {
                outputs.append(report(&track, reason: lost ? .trackEnded : .maxPredictionDelay, at: now))
            }
            if lost { outputs.append(.ended(track.id)) } else { alive.append(track) }
        }
        tracks = alive
        return outputs
    }

    /// The event of `track`, or its suppression when its plate was reported within `memoryDecay`.
    private mutating func report(_ track: inout Track, reason: EmissionReason, at now: MediaTime) -> TrackerOutput {
        track.reported = true
        let event = track.event(reason: reason, cameraID: cameraID, sourceURL: sourceURL,
                                imageSize: imageSize, configuration: configuration)
        guard let text = event.plate?.text else { return .event(event) }
        let seen = memory.contains {
            now.seconds - $0.time.seconds < configuration.memoryDecay
                && PlateText.editDistance($0.text, text) <= configuration.duplicateEditDistance
        }
        if seen { return .suppressed(track.id, plate: text) }
        memory.append((text, now))
        return .event(event)
    }
}
