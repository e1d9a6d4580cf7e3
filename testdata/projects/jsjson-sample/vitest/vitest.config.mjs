// Vitest config of the edge-case sample (record.sh runs it with the Vitest of
// testdata/identity/vitest/project). No retry, no includeTaskLocation. The
// cache goes outside the repository.
export default {
  cacheDir: process.env.RECORD_CACHE_DIR || '/tmp/rec-jsjson/vite-cache',
  test: {
    include: ['tests/**/*.test.js'],
  },
};
