/**
 * Grow-only scratch buffers, so measuring 500 instances does not allocate 500 × 4 small arrays.
 * Measurements are synchronous, so one set per module is safe (no re-entry).
 */
export class Scratch {
  private u8 = new Uint8Array(0);
  private i32 = new Int32Array(0);

  /** A zeroed Uint8Array view of length n (contents of earlier calls are discarded). */
  bytes(n: number): Uint8Array {
    if (this.u8.length < n) this.u8 = new Uint8Array(Math.max(n, this.u8.length * 2));
    const view = this.u8.subarray(0, n);
    view.fill(0);
    return view;
  }

  /** An Int32Array view of length n, contents undefined. */
  ints(n: number): Int32Array {
    if (this.i32.length < n) this.i32 = new Int32Array(Math.max(n, this.i32.length * 2));
    return this.i32.subarray(0, n);
  }
}
