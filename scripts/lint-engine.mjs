// Superseded by scripts/lint-layers.mjs (the engine purity lint grew into the layer lint, which keeps its
// rules). Kept only until package.json's "lint" names lint-layers.mjs; then this file goes.
await import('./lint-layers.mjs')
