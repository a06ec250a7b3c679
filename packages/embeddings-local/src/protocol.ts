/** Messages between the embedder and its worker thread. */

/** Asks the worker to load the model (`texts` absent) or to embed `texts`. */
export interface WorkerRequest {
  readonly id: number
  readonly texts?: readonly string[]
}

/** One reply per request: vectors in order, or the error the worker met. */
export type WorkerReply =
  | { readonly id: number; readonly vectors: Float32Array[] }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly stack?: string } }
