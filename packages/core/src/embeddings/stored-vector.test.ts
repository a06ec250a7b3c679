import { describe, expect, it } from 'vitest'
import { apportion } from './embedding-batcher.js'
import { base64Of, floatTextOf, vectorFromBase64, vectorFromFloats } from './stored-vector.js'

function float32Base64(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 4)
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4))
  return bytes.toString('base64')
}

describe('stored vectors', () => {
  // What OpenAI's float answers look like: the fewest digits that read back as the float32.
  const shortestText = '[-0.006929283,0.0023064255,-0.5,1e-7,0.012345679]'

  it('gives back float answers written with the fewest digits, number for number and character for character', () => {
    const values = JSON.parse(shortestText) as number[]
    const bytes = vectorFromFloats(values)!
    expect(floatTextOf(bytes)).toBe(shortestText)
    expect(base64Of(bytes)).toBe(float32Base64(values))
  })

  it('gives back float answers written as float32 values held in doubles', () => {
    const values = [0.1, -0.25, 0.3333].map(Math.fround)
    const bytes = vectorFromFloats(values)!
    expect(floatTextOf(bytes)).toBe(JSON.stringify(values))
    expect(base64Of(bytes)).toBe(float32Base64(values))
  })

  it('reads base64 answers as their bytes, and writes them as floats the way a client decoding them sees them', () => {
    const values = [0.1, -0.25, 0.3333].map(Math.fround)
    const bytes = vectorFromBase64(float32Base64(values))!
    expect(base64Of(bytes)).toBe(float32Base64(values))
    expect(JSON.parse(floatTextOf(bytes))).toEqual(Array.from(new Float32Array(new Uint8Array(Buffer.from(float32Base64(values), 'base64')).buffer)))
  })

  it('refuses doubles that float32 cannot hold, and bytes that are not float32 values', () => {
    expect(vectorFromFloats([0.123456789012345, 0.2])).toBeUndefined()
    expect(vectorFromFloats(['0.1'])).toBeUndefined()
    expect(vectorFromBase64(Buffer.from([1, 2, 3]).toString('base64'))).toBeUndefined()
  })

  it('splits a call’s tokens between its inputs by length, adding up to what the call cost', () => {
    expect(apportion(10, [5])).toEqual([10])
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3])
    expect(apportion(7, [10, 30])).toEqual([2, 5])
    expect(apportion(0, [3, 4])).toEqual([0, 0])
  })
})
