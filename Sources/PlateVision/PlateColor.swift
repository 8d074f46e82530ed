public import PlateCore

/// Estimates a plate's background colour from a crop: the colour class most pixels fall in.
///
/// Why pixel voting and not the mean: the characters cover a good part of the plate, and the mean of
/// dark glyphs on yellow is brown, which is no plate colour.
public enum PlateColor {
    /// The colour names the Huawei API uses (`blue`, `yellow`, `green`, `white`, `black`), plus `red`, `grey`.
    public static let names = ["blue", "yellow", "green", "white", "black", "red", "grey"]

    /// The dominant colour class of a BGR24 crop and the share of pixels in it.
    public static func estimate(_ crop: Image) -> ScoredLabel {
        precondition(crop.format == .bgr24, "colour estimation takes BGR24")
        var counts = [Int](repeating: 0, count: names.count)
        let p = crop.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        // Sample the inner 80 % to skip frame and background; a stride keeps it cheap on big crops.
        let x0 = crop.width / 10, x1 = crop.width - crop.width / 10
        let y0 = crop.height / 10, y1 = crop.height - crop.height / 10
        let step = max(1, min(crop.width, crop.height) / 32)
        var total = 0
        for y in Swift.stride(from: y0, to: max(y1, y0 + 1), by: step) {
            for x in Swift.stride(from: x0, to: max(x1, x0 + 1), by: step) {
                let o = y * crop.stride + 3 * x
                counts[classify(b: p[o], g: p[o + 1], r: p[o + 2])] += 1
                total += 1
            }
        }
        let best = counts.indices.max { counts[$0] < counts[$1] } ?? 3
        return ScoredLabel(names[best], score: total == 0 ? 0 : Double(counts[best]) / Double(total))
    }

    /// The index in `names` of one pixel's colour class (HSV thresholds).
    static func classify(b: UInt8, g: UInt8, r: UInt8) -> Int {
        let (hue, saturation, maxv) = hsv(b: b, g: g, r: r)
        if maxv < 0.22 { return 4 }                                          // black
        if saturation < 0.25 { return maxv > 0.62 ? 3 : 6 }                  // white / grey
        switch hue {
        case 35..<70: return 1                                                // yellow
        case 70..<170: return 2                                               // green
        case 170..<260: return 0                                              // blue
        case 260..<330: return 6
        default: return hue < 35 && saturation > 0.5 && hue > 15 ? 1 : 5     // orange-ish yellow, else red
        }
    }

    /// Hue (0..<360 degrees; meaningless when saturation is 0), saturation and value (0...1) of a BGR pixel.
    static func hsv(b: UInt8, g: UInt8, r: UInt8) -> (hue: Double, saturation: Double, value: Double) {
        let rf = Double(r) / 255, gf = Double(g) / 255, bf = Double(b) / 255
        let maxv = max(rf, gf, bf), minv = min(rf, gf, bf), delta = maxv - minv
        let saturation = maxv == 0 ? 0 : delta / maxv
        guard delta > 0 else { return (0, saturation, maxv) }
        var hue: Double
        if maxv == rf { hue = 60 * ((gf - bf) / delta) } else if maxv == gf { hue = 60 * ((bf - rf) / delta + 2) } else { hue = 60 * ((rf - gf) / delta + 4) }
        if hue < 0 { hue += 360 }
        return (hue, saturation, maxv)
    }
}

extension PlateColor {
    /// Whether the plate in a reader crop (the plate warped to the reader's input, grown by `marginY` of its
    /// height above and below) has a blue band across its top and a plate of another colour below it: the
    /// Mercosul plates of Brazil (and its neighbours). A whole blue plate (China, a blue car around a loose crop)
    /// has blue in the middle too and does not count; the EU's band is at the left, outside the sampled columns.
    public static func hasTopBlueBand(_ crop: Image, marginY: Double) -> Bool {
        precondition(crop.format == .bgr24, "colour estimation takes BGR24")
        let p = crop.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        // `t` is a fraction of the plate's height; the crop holds the plate between marginY and 1 + marginY.
        func blueShare(_ t0: Double, _ t1: Double) -> Double {
            func row(_ t: Double) -> Int { min(crop.height - 1, max(0, Int(Double(crop.height) * (marginY + t) / (1 + 2 * marginY)))) }
            let y0 = row(t0), y1 = max(row(t1), y0 + 1)
            let x0 = crop.width * 15 / 100, x1 = crop.width * 85 / 100
            var blue = 0, total = 0
            for y in y0..<y1 {
                for x in Swift.stride(from: x0, to: x1, by: 2) {
                    let o = y * crop.stride + 3 * x
                    if classify(b: p[o], g: p[o + 1], r: p[o + 2]) == 0 { blue += 1 }
                    total += 1
                }
            }
            return total == 0 ? 0 : Double(blue) / Double(total)
        }
        return blueShare(0.03, 0.2) >= 0.3 && blueShare(0.45, 0.75) < 0.3
    }
}
