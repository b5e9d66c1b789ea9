/** Adds Origin to a Vary value unless it is there already (or `*`). */
export function varyWithOrigin (current: unknown): string {
  if (typeof current !== 'string' || current.trim() === '') return 'Origin'
  const tokens = current.split(',').map((t) => t.trim().toLowerCase())
  return tokens.includes('origin') || tokens.includes('*') ? current : `${current}, Origin`
}
