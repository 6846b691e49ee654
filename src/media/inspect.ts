import { fileTypeFromFile } from 'file-type'
import sharp, { type Metadata } from 'sharp'
import { badRequest } from '../errors.js'

// libvips keeps decoded images in an operation cache by default: uploads are seen once, so no cache.
sharp.cache(false)

/** The formats the server decodes for width, height and a thumbnail; other images are stored as plain files. */
const DECODABLE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/tiff'])
export const THUMBNAIL_BOX = 320
export const THUMBNAIL_TYPE = 'image/webp'

/** The type the bytes say they are (magic numbers), never what the client claimed; unknown bytes are octet-stream. */
export async function sniffType (path: string): Promise<string> {
  return (await fileTypeFromFile(path))?.mime ?? 'application/octet-stream'
}

export interface ImageFacts {
  /** As displayed: EXIF rotations by 90° swap the stored width and height. */
  readonly width: number
  readonly height: number
}

/**
 * Width and height of an image in a decodable format, read from its header
 * before anything is decoded: an image over `maxPixels` (a decompression bomb
 * is a small file with huge dimensions) or one the decoder rejects is a 400.
 * Null for other types.
 */
export async function imageFacts (path: string, mimeType: string, maxPixels: number): Promise<ImageFacts | null> {
  if (!DECODABLE.has(mimeType)) return null
  let meta: Metadata
  try {
    // Only the header is read here, so no pixel limit yet: the check below names the dimensions.
    meta = await sharp(path, { limitInputPixels: false }).metadata()
  } catch (err) {
    throw badRequest(`the ${mimeType} image cannot be read: ${(err as Error).message}`)
  }
  const width = meta.width ?? 0
  // Animated images: one frame is what is shown (and what a thumbnail decodes).
  const height = meta.pageHeight ?? meta.height ?? 0
  if (width === 0 || height === 0) throw badRequest(`the ${mimeType} image has no dimensions`)
  if (width * height > maxPixels) {
    throw badRequest(`the image is ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} (IMPLUS_MAX_IMAGE_PIXELS)`)
  }
  const turned = (meta.orientation ?? 1) >= 5
  return turned ? { width: height, height: width } : { width, height }
}

/**
 * A WebP thumbnail that fits in THUMBNAIL_BOX (never enlarged), upright by its EXIF orientation, without
 * metadata; a damaged image (a truncated file whose header was fine) is a 400.
 */
export async function makeThumbnail (path: string, target: string, maxPixels: number): Promise<{ size: number, width: number, height: number }> {
  try {
    const info = await sharp(path, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate()
      .resize(THUMBNAIL_BOX, THUMBNAIL_BOX, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
      .toFile(target)
    return { size: info.size, width: info.width, height: info.height }
  } catch (err) {
    throw badRequest(`the image cannot be decoded: ${(err as Error).message}`)
  }
}
