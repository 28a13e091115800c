// The fixture helpers live in @stacklink/testing so every suite reads SOURCES.md the same way.
export {
  fixturesDir,
  listFixtures,
  readFixture,
  eventKeysFromSources,
  signatureVectors,
} from '@stacklink/testing';
