import Testing
@testable import PlateCore

@Suite struct RecognitionTests {
    @Test func boxGeometry() {
        let a = BoundingBox(x: 0, y: 0, width: 10, height: 10)
        let b = BoundingBox(x: 5, y: 0, width: 10, height: 10)
        #expect(a.iou(a) == 1)
        #expect(abs(a.iou(b) - 50.0 / 150.0) < 1e-12)
        #expect(a.iou(BoundingBox(x: 10, y: 0, width: 5, height: 5)) == 0)  // touching edges do not overlap
        #expect(a.center == Point(x: 5, y: 5))
        #expect(a.area == 100)
        #expect(BoundingBox(xmin: 5, ymin: 5, xmax: 1, ymax: 1).area == 0)
        #expect(a.offsetBy(dx: 3, dy: -2) == BoundingBox(xmin: 3, ymin: -2, xmax: 13, ymax: 8))
        #expect(BoundingBox(center: Point(x: 50, y: 20), width: 20, height: 10) == BoundingBox(xmin: 40, ymin: 15, xmax: 60, ymax: 25))
        #expect(a.contains(Point(x: 10, y: 10)) && !a.contains(Point(x: 10.01, y: 5)))
    }

    @Test func quadBoundingBox() {
        let quad = Quad(topLeft: Point(x: 10, y: 12), topRight: Point(x: 50, y: 8),
                        bottomRight: Point(x: 52, y: 30), bottomLeft: Point(x: 9, y: 33))
        #expect(quad.boundingBox == BoundingBox(xmin: 9, ymin: 8, xmax: 52, ymax: 33))
        let moved = quad.offsetBy(dx: 100, dy: -8)
        #expect(moved.corners == [Point(x: 110, y: 4), Point(x: 150, y: 0), Point(x: 152, y: 22), Point(x: 109, y: 25)])
        #expect(moved.boundingBox == quad.boundingBox.offsetBy(dx: 100, dy: -8))
    }

    @Test func plateTextIsCanonical() {
        #expect(PlateText.canonical("ab-12 3") == "AB123")
        #expect(PlateCandidate(text: "xy 99", score: 0.5).text == "XY99")
        #expect(PlateText.editDistance("ABC123", "ABC123") == 0)
        #expect(PlateText.editDistance("ABC123", "ABD123") == 1)
        #expect(PlateText.editDistance("ABC123", "AB123") == 1)
        #expect(PlateText.editDistance("", "AB") == 2)
        #expect(PlateText.editDistance("KITTEN", "SITTING") == 3)
    }

    @Test func plateReadPutsItsTextFirstAmongCandidates() {
        let box = BoundingBox(x: 0, y: 0, width: 10, height: 5)
        let read = PlateRead(text: "abc1", score: 0.8, characterScores: [0.9, 0.8, 0.7, 0.9],
                             candidates: [PlateCandidate(text: "ABCI", score: 0.1), PlateCandidate(text: "ABC1", score: 0.8)],
                             detectionScore: 0.9, box: box)
        #expect(read.text == "ABC1")
        #expect(read.candidates.map(\.text) == ["ABC1", "ABCI"])
        #expect(read.candidates[0].characterScores == [0.9, 0.8, 0.7, 0.9])
        let plain = PlateRead(text: "Q1", score: 0.5, detectionScore: 0.9, box: box)
        #expect(plain.candidates == [PlateCandidate(text: "Q1", score: 0.5)])
    }

    @Test func vehicleTypeNames() {
        #expect(VehicleType.car.plateRecognizerName == "Sedan")
        for type in VehicleType.allCases {
            #expect(VehicleType(plateRecognizerName: type.plateRecognizerName) == type)
        }
        #expect(VehicleType(plateRecognizerName: "SUV") == .car)
        #expect(VehicleType(plateRecognizerName: "Pickup Truck") == .truck)
        #expect(VehicleType(plateRecognizerName: "hovercraft") == .unknown)
    }
}
