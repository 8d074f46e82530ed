import Foundation
import PlateCore

/// Where in the stream a sighting happened.
struct FrameStamp: Equatable {
    var index: Int
    var time: MediaTime
    var wallClock: Date
}

/// One thing seen in one frame that may belong to a track: a plate, the vehicle around it, or both.
struct Target {
    var plate: PlateRead?
    var vehicle: VehicleDetection?
}

/// A box moving at constant velocity between sightings.
struct BoxMotion {
    private(set) var box: BoundingBox
    private(set) var time: Double
    /// Velocity of the centre in pixels per second; zero until the box was seen twice.
    private(set) var velocity = Point(x: 0, y: 0)
    private var hasVelocity = false

    init(box: BoundingBox, time: Double) {
        self.box = box
        self.time = time
    }

    /// Where the box should be at `time` if it kept its velocity.
    func predicted(at time: Double) -> BoundingBox {
        let dt = time - self.time
        return box.offsetBy(dx: velocity.x * dt, dy: velocity.y * dt)
    }

    /// Takes a new sighting. The velocity is smoothed (half old, half new) so that one jittery box
    /// does not throw the prediction off, yet a constant velocity is kept exactly.
    mutating func update(box newBox: BoundingBox, at newTime: Double) {
        let dt = newTime - time
        if dt > 0 {
            let measured = Point(x: (newBox.center.x - box.center.x) / dt, y: (newBox.center.y - box.center.y) / dt)
            velocity = hasVelocity
                ? Point(x: (velocity.x + measured.x) / 2, y: (velocity.y + measured.y) / 2)
                : measured
            hasVelocity = true
        }
        box = newBox
        time = newTime
    }
}

/// A box centre at a time, for the direction of travel.
struct PathPoint {
    var time: Double
    var center: Point
    var diagonal: Double
}

/// The frame whose image goes with a track's event.
struct BestFrame {
    /// Reading scores closer than this are a tie (see `isWorse`).
    static let scoreTie = 0.001
    /// On a tie, how much larger a plate's box must be to make the better frame.
    static let clearlyLarger = 1.05

    var frame: FrameStamp
    var read: PlateRead?
    var vehicle: VehicleDetection?

    /// Whether a sighting makes a better event frame: any plate read beats none; a whole plate beats one cut
    /// by the picture's edge (a plate leaving the picture can still read surely, and its frame then shows half
    /// a plate at a moment the plate was not in view); then the higher reading score; then the larger plate
    /// (more pixels to look at). Without plates, the more confident vehicle detection, then the larger one.
    /// Why not "the read closest to the consensus": the pipeline keeps only the current best
    /// frame's image, so the best frame must never move back to a frame it was told to drop.
    /// Reading scores within `scoreTie` of each other are a tie, and a tie goes to a plate at least `clearlyLarger`
    /// times the area, else stays: a sure reader scores many frames of one plate 0.9999x, and differences that small
    /// (or a box a pixel larger) come from where a box's edges fell, so they moved the event's frame by seconds
    /// between runs whose boxes differed by a pixel (the motion gate's search windows against the whole picture).
    func isWorse(than target: Target, imageSize: ImageSize) -> Bool {
        switch (read, target.plate) {
        case let (current?, candidate?):
            let (currentCut, candidateCut) = (Association.isCut(current.box, in: imageSize),
                                              Association.isCut(candidate.box, in: imageSize))
            if currentCut != candidateCut { return currentCut }
            if abs(candidate.score - current.score) > Self.scoreTie { return candidate.score > current.score }
            return candidate.box.area >= current.box.area * Self.clearlyLarger
        case (nil, _?): return true
        case (_?, nil): return false
        case (nil, nil):
            guard let candidate = target.vehicle else { return false }
            guard let current = vehicle else { return true }
            return candidate.score > current.score || (candidate.score == current.score && candidate.box.area > current.box.area)
        }
    }
}

/// One vehicle's passage through the image: what was seen of it and where it is going.
struct Track {
    /// Bounds on what a track keeps, so that a car parked for hours costs no more than a passing one.
    static let readLimit = 64
    static let vehicleLimit = 64
    static let pathLimit = 256

    let id: TrackID
    let firstSeen: FrameStamp
    private(set) var lastSeen: FrameStamp
    /// Observations in a row without this track.
    var missedFrames = 0
    private(set) var frameCount = 0
    /// Whether an event was reported (or suppressed as a duplicate): a track is reported once.
    var reported = false
    private(set) var plateMotion: BoxMotion?
    private(set) var vehicleMotion: BoxMotion?
    /// The best reads by score, at most `readLimit`.
    private(set) var reads: [PlateRead] = []
    /// The last few texts read, for association: one bad read should not break a track.
    private(set) var recentTexts: [String] = []
    private(set) var vehicles: [(detection: VehicleDetection, time: Double)] = []
    private(set) var platePath: [PathPoint] = []
    private(set) var vehiclePath: [PathPoint] = []
    private(set) var best: BestFrame

    init(id: TrackID, target: Target, frame: FrameStamp, imageSize: ImageSize) {
        self.id = id
        self.firstSeen = frame
        self.lastSeen = frame
        self.best = BestFrame(frame: frame, read: target.plate, vehicle: target.vehicle)
        _ = absorb(target, at: frame, imageSize: imageSize)
    }

    /// Adds a sighting; returns whether it became the best frame.
    mutating func absorb(_ target: Target, at frame: FrameStamp, imageSize: ImageSize) -> Bool {
        let time = frame.time.seconds
        lastSeen = frame
        missedFrames = 0
        frameCount += 1
        if let plate = target.plate {
            plateMotion.update(box: plate.box, at: time)
            Track.append(PathPoint(time: time, center: plate.box.center, diagonal: plate.box.diagonal), to: &platePath)
            if reads.count < Track.readLimit {
                reads.append(plate)
            } else if let worst = reads.indices.min(by: { reads[$0].score < reads[$1].score }), reads[worst].score < plate.score {
                reads[worst] = plate
            }
            if !plate.text.isEmpty { recentTexts = Array((recentTexts + [plate.text]).suffix(3)) }
        }
        if let vehicle = target.vehicle {
            vehicleMotion.update(box: vehicle.box, at: time)
            Track.append(PathPoint(time: time, center: vehicle.box.center, diagonal: vehicle.box.diagonal), to: &vehiclePath)
            vehicles.append((vehicle, time))
            if vehicles.count > Track.vehicleLimit { vehicles = Track.thinned(vehicles) }
        }
        guard frame != best.frame, best.isWorse(than: target, imageSize: imageSize) else { return false }
        best = BestFrame(frame: frame, read: target.plate, vehicle: target.vehicle)
        return true
    }

    /// Whether the track is over at `time`: unseen for too many observations or too long, and
    /// (with `merge_buffer`) unseen for at least the merge buffer.
    func isLost(at time: MediaTime, configuration: TrackerConfiguration, imageSize: ImageSize? = nil) -> Bool {
        let unseen = time.seconds - lastSeen.time.seconds
        var gone = missedFrames > configuration.maxMissedFrames || unseen > configuration.lostTimeout
        // Missed, and its motion has carried it out of the picture: it left, and whatever appears at that
        // edge next is another vehicle.
        if missedFrames > 0, let imageSize, hasLeft(imageSize, at: time.seconds) { gone = true }
        return gone && unseen >= configuration.mergeBuffer
    }

    /// Whether the box the track's motion predicts at `time` lies mostly (over 70 %) outside the image.
    func hasLeft(_ imageSize: ImageSize, at time: Double) -> Bool {
        guard imageSize.width > 0, imageSize.height > 0,
              let predicted = (vehicleMotion ?? plateMotion)?.predicted(at: time), predicted.area > 0 else { return false }
        let frame = BoundingBox(xmin: 0, ymin: 0, xmax: Double(imageSize.width), ymax: Double(imageSize.height))
        let inside = predicted.intersection(frame)?.area ?? 0
        return inside < 0.3 * predicted.area
    }

    /// Direction of travel in degrees, counter-clockwise from "moving right" (90 = up the image),
    /// from a least-squares fit of the box centres over time (plates when seen at least twice,
    /// else vehicles): a straight line through all sightings is steadier than first-to-last.
    /// Nil when the fitted motion is shorter than `minimumDisplacement` box diagonals.
    func direction(minimumDisplacement: Double) -> Int? {
        let path = platePath.count >= 2 ? platePath : vehiclePath
        guard path.count >= 2 else { return nil }
        let n = Double(path.count)
        let meanTime = path.map(\.time).reduce(0, +) / n
        let meanX = path.map(\.center.x).reduce(0, +) / n
        let meanY = path.map(\.center.y).reduce(0, +) / n
        var tt = 0.0, tx = 0.0, ty = 0.0
        for point in path {
            let dt = point.time - meanTime
            tt += dt * dt
            tx += dt * (point.center.x - meanX)
            ty += dt * (point.center.y - meanY)
        }
        guard tt > 0 else { return nil }
        let vx = tx / tt, vy = ty / tt
        let span = path.last!.time - path.first!.time
        let displacement = (vx * vx + vy * vy).squareRoot() * span
        let meanDiagonal = path.map(\.diagonal).reduce(0, +) / n
        guard displacement >= minimumDisplacement * meanDiagonal, displacement > 0 else { return nil }
        // Image y grows downwards; "up" is 90°, so flip y.
        var degrees = atan2(-vy, vx) * 180 / .pi
        if degrees < 0 { degrees += 360 }
        return Int(degrees.rounded()) % 360
    }

    /// The plate box last seen, if any.
    var lastPlateBox: BoundingBox? { plateMotion?.box }

    /// Whether the track deserves an event: any plate read does; without one, the vehicle must have been seen
    /// `minimumVehicleFrames` times and, when no detection classified it, have moved.
    func isReportable(_ configuration: TrackerConfiguration) -> Bool {
        guard reads.isEmpty else { return true }
        guard frameCount >= configuration.minimumVehicleFrames else { return false }
        return vehicles.contains { $0.detection.type != .unknown }
            || direction(minimumDisplacement: configuration.minimumDisplacement) != nil
    }

    /// The event for this track as it stands.
    func event(reason: EmissionReason, cameraID: CameraID, sourceURL: String, imageSize: ImageSize,
               configuration: TrackerConfiguration) -> TrackEvent {
        var plate: PlateConsensus?
        if let bestRead = best.read, let vote = PlateVoting.consensus(of: reads, maxCandidates: configuration.maxCandidates) {
            plate = PlateConsensus(text: vote.text, score: vote.score, candidates: vote.candidates,
                                   region: vote.region, readCount: reads.count, bestRead: bestRead)
        }
        // The vehicle box must fit the event's image: take it from the best frame, or failing that
        // from the sighting nearest in time to it.
        let bestTime = best.frame.time.seconds
        let vehicleBox = best.vehicle?.box
            ?? vehicles.min(by: { abs($0.time - bestTime) < abs($1.time - bestTime) })?.detection.box
        return TrackEvent(
            trackID: id,
            cameraID: cameraID,
            plate: plate,
            vehicle: vehicleBox.flatMap { PlateVoting.vehicle(of: vehicles.map(\.detection), box: $0) },
            direction: direction(minimumDisplacement: configuration.minimumDisplacement),
            bestFrameIndex: best.frame.index,
            bestFrameTime: best.frame.time,
            timestamp: best.frame.wallClock,
            imageSize: imageSize,
            firstSeen: firstSeen.time,
            lastSeen: lastSeen.time,
            frameCount: frameCount,
            reason: reason,
            sourceURL: sourceURL)
    }

    private static func append(_ point: PathPoint, to path: inout [PathPoint]) {
        path.append(point)
        if path.count > pathLimit { path = thinned(path) }
    }

    /// Every other element, keeping the first and the last: halves a history without shortening its span.
    private static func thinned<T>(_ items: [T]) -> [T] {
        items.indices.filter { $0 % 2 == 0 || $0 == items.count - 1 }.map { items[$0] }
    }
}

private extension Optional where Wrapped == BoxMotion {
    /// Starts the motion at the first sighting, updates it afterwards.
    mutating func update(box: BoundingBox, at time: Double) {
        if self == nil { self = BoxMotion(box: box, time: time) } else { self!.update(box: box, at: time) }
    }
}
