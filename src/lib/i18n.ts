/**
 * The languages people read QRBOOK in: Russian and English (issue 26). Which one a request gets
 * is decided here, once, from its Accept-Language header; English when it names neither, so a
 * client that sends no header (the original frontend, the contract suite) reads exactly the
 * original's English.
 */
export type Lang = 'en' | 'ru'

/** The best of en/ru for an Accept-Language header (q-values honoured, ties to the first named); English by default. */
export function pickLanguage(header: string | null | undefined): Lang {
  let best: { lang: Lang; q: number } | undefined
  for (const part of (header ?? '').split(',')) {
    const [tag, ...params] = part.trim().toLowerCase().split(';')
    const lang = tag?.startsWith('ru') ? 'ru' : tag?.startsWith('en') ? 'en' : undefined
    if (!lang) continue
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const q = qParam ? Number(qParam.slice(2)) : 1
    if (!Number.isFinite(q) || q <= 0) continue
    if (!best || q > best.q) best = { lang, q }
  }
  return best?.lang ?? 'en'
}
