import Foundation
import PlateCore
import Testing

/// The first pass's choice of input shape and the picture's size in it (what decoders scale frames to), and the
/// pixel memory pool decoders cut pictures from.
@Suite struct FirstPassSizingTests {
    let sizing = FirstPassSizing(inputs: [ImageSize(width: 512, height: 512), ImageSize(width: 512, height: 288),
                                          ImageSize(width: 512, height: 384)])

    @Test func thePictureGetsTheSmallestInputThatHoldsItAtFullScale() {
        #expect(sizing.input(width: 1280, height: 720) == 1)   // 16:9
        #expect(sizing.input(width: 1920, height: 1080) == 1)
        #expect(sizing.input(width: 1280, height: 960) == 2)   // 4:3
        #expect(sizing.input(width: 1280, height: 1280) == 0)  // square
        #expect(sizing.input(width: 720, height: 1280) == 0)   // portrait
        // 16:10 fits 512x288 at 90 % of the square input's scale only: too much lost, 4:3 it is.
        #expect(sizing.input(width: 1024, height: 640) == 2)
        // A small picture is not blown up further than its own size needs.
        #expect(sizing.input(width: 461, height: 346) == 2)
        #expect(sizing.input(width: 300, height: 169) == 1)
        #expect(FirstPassSizing(inputs: [sizing.inputs[0]]).input(width: 1280, height: 720) == 0)
    }

    @Test func theScaledSizeIsThePicturesShapeInsideTheInput() {
        #expect(sizing.scaledSize(width: 1920, height: 1080) == ImageSize(width: 512, height: 288))
        #expect(sizing.scaledSize(width: 1280, height: 720) == ImageSize(width: 512, height: 288))
        #expect(sizing.scaledSize(width: 1280, height: 960) == ImageSize(width: 512, height: 384))
        #expect(sizing.scaledSize(width: 1280, height: 1024) == ImageSize(width: 512, height: 410))  // 5:4: 4:3 loses too much
        #expect(sizing.scaledSize(width: 720, height: 1280) == ImageSize(width: 288, height: 512))   // portrait in the square
        // Nothing to save where the first pass does not shrink the picture.
        #expect(sizing.scaledSize(width: 512, height: 288) == nil)
        #expect(sizing.scaledSize(width: 300, height: 169) == nil)
        #expect(sizing.scaledSize(width: 0, height: 10) == nil)
    }

    @Test func poolHandsFreedMemoryOutAgainUpToItsSpares() {
        let pool = PixelBufferPool(spares: 2)
        var first: PixelBuffer? = pool.buffer(count: 1000)
        let address = first!.bytes
        first!.bytes.storeBytes(of: 7, as: UInt8.self)
        first = nil
        let again = pool.buffer(count: 1000)
        #expect(again.bytes == address)
        #expect(pool.statistics.allocated == 1 && pool.statistics.reused == 1)
        // Another size is never handed a block of the wrong size.
        let other = pool.buffer(count: 500)
        #expect(other.count == 500 && other.bytes != address)
        #expect(pool.statistics.allocated == 2)
        // Four freed at once: two are kept, two freed; the next four requests reuse two.
        var many: [PixelBuffer] = (0..<4).map { _ in pool.buffer(count: 64) }
        many.removeAll()
        let next = (0..<4).map { _ in pool.buffer(count: 64) }
        #expect(next.count == 4)
        #expect(pool.statistics.reused == 3 && pool.statistics.allocated == 2 + 4 + 2)
    }

    @Test func poolBuffersOutliveTheirPoolSafely() {
        var pool: PixelBufferPool? = PixelBufferPool(spares: 1)
        let buffer = pool!.buffer(count: 256)
        pool = nil  // the buffer holds the pool until it goes
        buffer.bytes.storeBytes(of: 1, toByteOffset: 255, as: UInt8.self)
        #expect(buffer.count == 256)
    }
}
