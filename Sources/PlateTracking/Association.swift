import PlateCore

/// Which detection of a frame belongs to which track.
enum Association {
    /// Share of a plate's area that must lie inside a vehicle's box for the plate to be that vehicle's.
    static let plateInVehicle = 0.6
    /// Overlap (IoU) at which two plate boxes of one frame are one plate seen twice.
    static let samePlateOverlap = 0.5

    /// The targets of one frame: each plate with the vehicle around it (when one is), then the
    /// vehicles around no plate. A vehicle goes to at most one plate: the one it holds most of,
    /// ties to the smaller vehicle (the one nearer to the plate's size).
    static func targets(in observation: Observation) -> [Target] {
        let plates = observation.plates, vehicles = observation.vehicles
        var pairs: [(plate: Int, vehicle: Int, inside: Double, area: Double)] = []
        for (p, plate) in plates.enumerated() where plate.box.area > 0 {
            for (v, vehicle) in vehicles.enumerated() {
                guard let overlap = plate.box.intersection(vehicle.box) else { continue }
                let inside = overlap.area / plate.box.area
                if inside >= plateInVehicle { pairs.append((p, v, inside, vehicle.box.area)) }
            }
        }
        pairs.sort { ($0.inside, -$0.area, -$0.plate, -$0.vehicle) > ($1.inside, -$1.area, -$1.plate, -$1.vehicle) }
        var vehicleOfPlate: [Int: Int] = [:], plateOfVehicle: [Int: Int] = [:]
        for pair in pairs where vehicleOfPlate[pair.plate] == nil && plateOfVehicle[pair.vehicle] == nil {
            vehicleOfPlate[pair.plate] = pair.vehicle
            plateOfVehicle[pair.vehicle] = pair.plate
        }
        let withPlates = plates.indices.map { Target(plate: plates[$0], vehicle: vehicleOfPlate[$0].map { vehicles[$0] }) }
        let alone = vehicles.indices.filter { plateOfVehicle[$0] == nil }.map { Target(plate: nil, vehicle: vehicles[$0]) }
        return withPlates + alone
    }

    /// Whether a box touches the picture's edge (within 2 px): a plate entering or leaving, read in part.
    static func isCut(_ box: BoundingBox, in imageSize: ImageSize) -> Bool {
        imageSize.width > 0 && (box.xmin <= 2 || box.ymin <= 2 || box.xmax >= Double(imageSize.width) - 2
            || box.ymax >= Double(imageSize.height) - 2)
    }

    /// Pairs tracks with targets, greedily by affinity (best pairs first); each side is used at most once.
    static func match(tracks: [Track], targets: [Target], at time: Double, imageSize: ImageSize,
                      configuration: TrackerConfiguration) -> [(track: Int, target: Int)] {
        var candidates: [(track: Int, target: Int, affinity: Double)] = []
        for (t, track) in tracks.enumerated() {
            for (x, target) in targets.enumerated() {
                if let a = affinity(track, target, at: time, imageSize: imageSize, configuration: configuration) {
                    candidates.append((t, x, a))
                }
            }
        }
        candidates.sort { ($0.affinity, -$0.track, -$0.target) > ($1.affinity, -$1.track, -$1.target) }
        var usedTracks = Set<Int>(), usedTargets = Set<Int>()
        var matches: [(track: Int, target: Int)] = []
        for candidate in candidates where !usedTracks.contains(candidate.track) && !usedTargets.contains(candidate.target) {
            usedTracks.insert(candidate.track)
            usedTargets.insert(candidate.target)
            matches.append((candidate.track, candidate.target))
        }
        return matches
    }

    /// How well `target` fits `track` at `time`, or nil when it may not join it. Three cues:
    /// - geometry: overlap with the box the track's constant-velocity motion predicts (plate to plate,
    ///   vehicle to vehicle, or a plate inside the track's vehicle), or a centre close to it;
    /// - text: a read of nearly the same text links even without overlap, within `textLinkRadius`
    ///   (anywhere, with `merge_buffer`), which catches a fast mover before it has a velocity;
    /// - veto: a clearly different text on a plate box that barely overlaps the track's is another vehicle.
    static func affinity(_ track: Track, _ target: Target, at time: Double, imageSize: ImageSize,
                         configuration: TrackerConfiguration) -> Double? {
        let imageDiagonal = imageSize.diagonal
        var geometry: Double?
        var plateOverlap = 0.0
        func consider(_ predicted: BoundingBox, _ observed: BoundingBox, plates: Bool) {
            let iou = predicted.iou(observed)
            let scale = max(predicted.diagonal, observed.diagonal, 1)
            let jump = predicted.center.distance(to: observed.center) / scale
            if plates { plateOverlap = max(plateOverlap, iou) }
            guard iou >= configuration.minimumIoU || jump <= configuration.maxCenterJump else { return }
            geometry = max(geometry ?? 0, iou + 0.5 * max(0, 1 - jump / configuration.maxCenterJump))
        }
        let predictedPlate = track.plateMotion?.predicted(at: time)
        let predictedVehicle = track.vehicleMotion?.predicted(at: time)
        if let plate = target.plate?.box, let predictedPlate { consider(predictedPlate, plate, plates: true) }
        if let vehicle = target.vehicle?.box, let predictedVehicle { consider(predictedVehicle, vehicle, plates: false) }
        // A plate seen for the first time on a vehicle we track, or a vehicle whose plate we track.
        if let plate = target.plate?.box, predictedPlate == nil, let predictedVehicle, predictedVehicle.contains(plate.center) {
            geometry = max(geometry ?? 0, 0.5)
        }
        if target.plate == nil, let vehicle = target.vehicle?.box, let predictedPlate, vehicle.contains(predictedPlate.center) {
            geometry = max(geometry ?? 0, 0.5)
        }

        var similarity: Double?
        var textLinked = false
        if let text = target.plate?.text, !text.isEmpty, !track.recentTexts.isEmpty {
            let (distance, length) = track.recentTexts
                .map { (PlateText.editDistance($0, text), max($0.count, text.count)) }
                .min { $0.0 < $1.0 }!
            similarity = 1 - Double(distance) / Double(length)
            // Two reads of one plate may each have one character wrong, in different places.
            let tolerance = length >= 6 ? 2 : 1
            if distance <= tolerance, let plateBox = target.plate?.box {
                let anchor = predictedPlate?.center ?? predictedVehicle?.center ?? plateBox.center
                textLinked = configuration.mergeBuffer > 0
                    || anchor.distance(to: plateBox.center) <= configuration.textLinkRadius * imageDiagonal
            }
            // Only the plate boxes count here: vehicle boxes (motion blobs above all) merge and split, and a
            // new vehicle passing where an old one was must not hand its plate to the old track.
            // A plate cut by the picture's edge (entering or leaving) is read in part: its text proves nothing.
            let cut = { (box: BoundingBox) in isCut(box, in: imageSize) }
            let partial = target.plate.map { cut($0.box) } ?? false || track.lastPlateBox.map(cut) ?? false
            if let similarity, similarity < 0.5, plateOverlap < 0.5, !partial { return nil }
        }
        guard geometry != nil || textLinked else { return nil }
        return (geometry ?? 0) + (similarity ?? 0.5)
    }
}
