import { Readable } from 'node:stream'

type BodyError = Error & { statusCode?: number }

/**
 * Reads the request body, or resolves undefined as soon as it passes
 * `limit` bytes (the rest is left unread, as Fastify's own parser does).
 * A stream error (the client went away mid-body) is a 400, never a 500.
 */
export function readBody (payload: NodeJS.ReadableStream, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    function stop (): void {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
    }
    function onData (chunk: Buffer): void {
      size += chunk.length
      if (size > limit) {
        stop()
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    }
    function onEnd (): void {
      stop()
      resolve(Buffer.concat(chunks, size))
    }
    function onError (err: BodyError): void {
      stop()
      err.statusCode = 400
      reject(err)
    }
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onError)
  })
}

/** The same bytes again, as the stream Fastify's content-type parser reads next. */
export function bodyStream (body: Buffer): Readable {
  let next: Buffer | null = body
  const stream = new Readable({
    read () {
      this.push(next)
      next = null
    },
  }) as Readable & { receivedEncodedLength: number }
  // Fastify compares this with Content-Length.
  stream.receivedEncodedLength = body.length
  return stream
}
