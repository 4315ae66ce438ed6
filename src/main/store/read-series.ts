/**
 * Which series of a study count towards its scores and its volume: the series the networks read
 * (not skipped for another series of the study) whose scoring finished; while a study is scored
 * provisionally, those still arriving too; and the series being scored now, whatever its state.
 * One SQL clause, so the study scores and the volume estimate always rest on the same slices.
 */

/**
 * A JOIN of `series s` onto instances aliased `i`, keeping the counted series; binds `@including`
 * (the series being scored now, or null).
 */
export function countedSeriesJoin(withReceiving: boolean): string {
  const states = withReceiving ? "('scored', 'receiving')" : "('scored')";
  return `JOIN series s ON s.series_uid = i.series_uid AND (s.state IN ${states} OR s.series_uid = @including) AND s.skipped_reason IS NULL`;
}
