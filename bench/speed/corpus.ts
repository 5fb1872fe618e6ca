/**
 * The speed bench's corpus: short agent-style facts (preferences, people,
 * projects, places, events, instructions) made from a seed. Memory i depends
 * only on (seed, i), so the corpus of 1,000 is the first 1,000 of the corpus of
 * 100,000, nothing is held in memory beyond what a batch needs, and every run
 * with the same seed stores and asks exactly the same things.
 *
 * Queries have known targets, so hit@10 is measured next to speed:
 * - `phrase`: a contiguous run of the target's own words (about 70% of them);
 * - `keyword`: 3–5 of its content words in random order.
 */

export type QueryKind = 'phrase' | 'keyword';

export interface CorpusMemory {
  index: number;
  content: string;
  type: string;
  tags: string[];
  importance: number;
  metadata: { seq: number };
}

export interface BenchQuery {
  kind: QueryKind;
  query: string;
  /** Index of the memory this query was made from. */
  target: number;
}

export function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit mix of the seed and a number: independent streams per memory. */
function mix(seed: number, n: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

const list = (s: string): readonly string[] => s.split(',').map((w) => w.trim().replace(/\s+/gu, ' '));

const FIRST = list(`Priya, Jonas, Mei, Carlos, Aisha, Tomasz, Ingrid, Kwame, Lucia, Dmitri, Hana, Oluwaseun, Beatriz, Henrik,
  Fatima, Marco, Yuki, Siobhan, Ravi, Elena, Mateo, Astrid, Kofi, Leila, Gustavo, Nadia, Felix, Amara, Bruno, Chloe, Tariq,
  Rosa, Viktor, Imani, Soren, Paloma, Arjun, Greta, Emeka, Zofia, Diego, Noor, Lars, Ayumi, Rafael, Wanjiru, Otto, Camille,
  Hamid, Freya, Julien, Thandiwe, Stefan, Marisol, Kenji, Olga, Femi, Annika, Luca, Zainab`);
const LAST = list(`Raman, Becker, Chen, Alvarez, Okafor, Nowak, Lindqvist, Mensah, Ferreira, Volkov, Tanaka, Adeyemi, Costa,
  Halvorsen, Haddad, Rossi, Sato, Byrne, Iyer, Popescu, Herrera, Johansson, Asante, Karimi, Pereira, Petrova, Wagner, Eze,
  Moreau, Dubois, Rahman, Ortega, Kowalski, Ndlovu, Nielsen, Castillo, Mehta, Schmidt, Obi, Wojcik, Morales, Aziz, Berg,
  Kimura, Santos, Kamau, Fischer, Laurent, Hosseini, Larsen, Girard, Dlamini, Keller, Ramos, Watanabe, Ivanova, Balogun,
  Svensson, Bianchi, Yusuf`);
const CITIES = list(`Lisbon, Nairobi, Osaka, Montreal, Krakow, Bergen, Accra, Porto, Tbilisi, Kyoto, Lagos, Valencia, Tallinn,
  Medellin, Hanoi, Gdansk, Cape Town, Reykjavik, Ljubljana, Marseille, Bilbao, Seoul, Dublin, Edinburgh, Melbourne, Denver,
  Austin, Portland, Helsinki, Munich, Zurich, Rotterdam, Antwerp, Vilnius, Bologna, Seville, Istanbul, Dakar, Kigali, Lima,
  Quito, Santiago, Oaxaca, Halifax, Wellington, Perth, Chennai, Pune, Taipei, Busan`);
const DRINKS = list(`oat milk flat white, green tea, sparkling water, espresso, rooibos, cold brew, chai latte, black coffee,
  kombucha, matcha, hot chocolate, mint tea, orange juice, ginger beer, yerba mate`);
const FOODS = list(`ramen, falafel, sourdough toast, pad thai, tacos al pastor, mushroom risotto, pierogi, jollof rice,
  bibimbap, shakshuka, paella, pho, empanadas, dal makhani, sushi, lentil soup, margherita pizza, couscous, dumplings,
  injera, banh mi, poke bowls, goulash, arepas`);
const ALLERGENS = list(`peanuts, shellfish, gluten, lactose, sesame, tree nuts, soy, eggs, kiwi, celery`);
const HOBBIES = list(`bouldering, sourdough baking, birdwatching, trail running, chess, woodworking, salsa dancing, film
  photography, kayaking, gardening, pottery, jazz piano, astronomy, cycling, knitting, rock climbing, surfing, origami,
  calligraphy, beekeeping, fencing, sailing, archery, urban sketching`);
const ROLES = list(`tech lead, product manager, staff engineer, designer, data scientist, engineering manager, SRE, security
  engineer, QA lead, solutions architect, researcher, intern, CTO, support engineer, release manager, analyst`);
const TEAMS = list(`billing, search, payments, growth, platform, mobile, infrastructure, onboarding, analytics, identity,
  checkout, notifications, compliance, data, developer experience, logistics, pricing, recommendations`);
const COMPANIES = list(`Acme, Globex, Initech, Umbrella Health, Stark Logistics, Wayne Analytics, Tyrell Systems, Hooli,
  Vandelay Imports, Soylent Foods, Cyberdyne, Aperture Labs, Massive Dynamic, Wonka Industries, Oscorp, Pied Piper`);
const TECH = list(`Postgres, Kubernetes, Rust, TypeScript, Kafka, Redis, Terraform, GraphQL, Elasticsearch, Go, Python,
  Snowflake, DuckDB, gRPC, React, Svelte, Flutter, Kotlin, Swift, ClickHouse, RabbitMQ, Nginx, Envoy, SQLite, LanceDB,
  Airflow, dbt, Spark, Django, Rails, FastAPI, Next.js, Deno, Bazel, Prometheus, Grafana`);
const SYSTEMS = list(`payment ledger, invoice service, user directory, search index, event pipeline, feature store, audit
  log, session cache, notification queue, order history, pricing engine, fraud model, report builder, image resizer,
  permission service, shipping tracker`);
const EVENTS = list(`retrospective, design review, incident review, offsite, planning session, launch party, demo day,
  hackathon, postmortem, architecture review, quarterly review, onboarding workshop`);
const INCIDENTS = list(`database failover, expired TLS certificate, memory leak in the worker pool, DNS outage, broken
  deploy, slow checkout page, duplicate invoices, queue backlog, cache stampede, data migration, login outage, disk filling up`);
const TOOLS = list(`the linter, the unit tests, the schema check, prettier, the type checker, the migration dry run, the
  security scan, the load test, the smoke tests, the license check`);
const WEEKDAYS = list(`Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday`);
const MONTHS = list(`January, February, March, April, May, June, July, August, September, October, November, December`);
const TIMES = list(`9 am, 10 am, 11:30 am, noon, 2 pm, 3 pm, 4:30 pm, 6 pm`);
const COLORS = list(`dark, light, high-contrast, solarized, sepia, blue, green, amber`);
const EDITORS = list(`Neovim, VS Code, Emacs, IntelliJ, Zed, Helix, Sublime Text, Xcode`);
const PETS = list(`a cat, a dog, two cats, a parrot, a rabbit, a tortoise, a beagle, a greyhound, three goldfish, a hamster`);
const TRANSPORT = list(`by train, by bike, on foot, by bus, by ferry, by tram, by car, by scooter`);
const STREET_PARTS = list(`Oak, Harbour, Mill, Station, Castle, Bridge, Market, Garden, Church, River, Maple, Linden, Cedar, Elm`);
const STREET_KINDS = list(`Street, Road, Lane, Avenue, Square, Row`);
const SYLLABLES = list(`ka, zu, mor, vel, tri, an, dex, lo, qui, ren, sol, tha, vin, ora, bel, cor, ix, nym, pra, sil, tor,
  um, wex, yar, zen, hal, cyo, mir, ost, fen`);

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const person = (r: Rand) => `${pick(r, FIRST)} ${pick(r, LAST)}`;
/** A made-up project name: rare words make memories tell apart, as real code names do. */
function codename(r: Rand): string {
  const n = int(r, 2, 3);
  const s = Array.from({ length: n }, () => pick(r, SYLLABLES)).join('');
  return s[0]!.toUpperCase() + s.slice(1);
}
const street = (r: Rand) => `${int(r, 1, 240)} ${pick(r, STREET_PARTS)} ${pick(r, STREET_KINDS)}`;
const date = (r: Rand) => `${pick(r, WEEKDAYS)} ${int(r, 1, 28)} ${pick(r, MONTHS)}`;
/** "a" or "an", as a person would write it. */
const an = (word: string) => `${/^[aeiou]/iu.test(word) ? 'an' : 'a'} ${word}`;

interface Template {
  type: string;
  tag: string;
  make(r: Rand): string;
}

const TEMPLATES: readonly Template[] = [
  { type: 'preference', tag: 'preference', make: (r) => `${person(r)} prefers ${pick(r, DRINKS)} over ${pick(r, DRINKS)} and likes meetings after ${pick(r, TIMES)}.` },
  { type: 'preference', tag: 'preference', make: (r) => `${person(r)} likes ${pick(r, FOODS)} for lunch but is allergic to ${pick(r, ALLERGENS)}.` },
  { type: 'preference', tag: 'preference', make: (r) => `${pick(r, FIRST)} uses ${pick(r, EDITORS)} with a ${pick(r, COLORS)} theme and wants code reviews in ${pick(r, TECH)} kept under ${int(r, 2, 8) * 50} lines.` },
  { type: 'preference', tag: 'preference', make: (r) => `${person(r)} commutes ${pick(r, TRANSPORT)} and would rather not have calls before ${pick(r, TIMES)} on ${pick(r, WEEKDAYS)}.` },
  { type: 'fact', tag: 'person', make: (r) => `${person(r)} is the ${pick(r, ROLES)} of the ${pick(r, TEAMS)} team at ${pick(r, COMPANIES)} and lives in ${pick(r, CITIES)}.` },
  { type: 'fact', tag: 'person', make: (r) => `${person(r)}'s birthday is on ${int(r, 1, 28)} ${pick(r, MONTHS)}; they enjoy ${pick(r, HOBBIES)} and have ${pick(r, PETS)}.` },
  { type: 'fact', tag: 'person', make: (r) => `${person(r)} moved from ${pick(r, CITIES)} to ${pick(r, CITIES)} in ${int(r, 2009, 2026)} and speaks ${int(r, 2, 5)} languages.` },
  { type: 'fact', tag: 'project', make: (r) => `Project ${codename(r)} migrates the ${pick(r, SYSTEMS)} to ${pick(r, TECH)} before the end of ${pick(r, MONTHS)}.` },
  { type: 'fact', tag: 'project', make: (r) => `The ${codename(r)} repository uses ${pick(r, TECH)} with ${pick(r, TECH)}; ${person(r)} owns the ${pick(r, SYSTEMS)} part.` },
  { type: 'fact', tag: 'project', make: (r) => `${codename(r)} cut p95 latency of the ${pick(r, SYSTEMS)} from ${int(r, 200, 900)} ms to ${int(r, 20, 190)} ms after switching to ${pick(r, TECH)}.` },
  { type: 'fact', tag: 'place', make: (r) => `The ${pick(r, COMPANIES)} office in ${pick(r, CITIES)} is at ${street(r)}, floor ${int(r, 1, 30)}; badge access opens at ${pick(r, TIMES)}.` },
  { type: 'fact', tag: 'place', make: (r) => `${pick(r, FIRST)} recommends the ${pick(r, FOODS)} place near ${street(r)} in ${pick(r, CITIES)}.` },
  { type: 'event', tag: 'event', make: (r) => `On ${date(r)} the ${pick(r, TEAMS)} team held ${an(pick(r, EVENTS))} about the ${pick(r, INCIDENTS)}.` },
  { type: 'event', tag: 'event', make: (r) => `${person(r)} presented ${codename(r)} at the ${pick(r, EVENTS)} in ${pick(r, CITIES)} on ${date(r)}.` },
  { type: 'event', tag: 'event', make: (r) => `The ${pick(r, INCIDENTS)} on ${date(r)} took ${int(r, 12, 300)} minutes to resolve; ${pick(r, FIRST)} was on call.` },
  { type: 'instruction', tag: 'instruction', make: (r) => `Always run ${pick(r, TOOLS)} before pushing to the ${codename(r)} branch, and tag ${pick(r, FIRST)} on changes to the ${pick(r, SYSTEMS)}.` },
  { type: 'instruction', tag: 'instruction', make: (r) => `When ${person(r)} asks for a status report on ${codename(r)}, summarise the ${pick(r, TEAMS)} metrics in ${int(r, 3, 7)} bullet points.` },
];

export function memoryAt(seed: number, index: number): CorpusMemory {
  const r = mulberry32(mix(seed, index));
  const template = pick(r, TEMPLATES);
  return {
    index,
    content: template.make(r),
    type: template.type,
    tags: [template.tag],
    importance: Math.round(r() * 100) / 100,
    metadata: { seq: index },
  };
}

/**
 * Left out of keyword queries: stop words, and the templates' own glue words,
 * which every memory of a template shares; a person searches by what tells a
 * memory apart (names, places, systems, numbers).
 */
const QUERY_STOP = new Set(
  list(`a, an, the, and, or, but, of, to, in, on, at, for, with, from, by, is, are, was, be, has, have, their, they, its, it,
    after, before, over, under, about, into, near, than, this, that, when, would, rather, not, also, always, asks, took, kept,
    uses, likes, prefers, meetings, lunch, allergic, theme, wants, code, reviews, lines, commutes, calls, birthday, enjoy,
    moved, speaks, languages, project, migrates, end, repository, owns, part, cut, latency, switching, office, floor, badge,
    access, opens, recommends, place, team, held, presented, minutes, resolve, call, run, pushing, branch, tag, changes,
    status, report, summarise, metrics, bullet, points`).map((w) => w.toLowerCase()),
);

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'.-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu;

export function phraseQuery(content: string): string {
  const words = content.split(/\s+/u).filter((w) => w !== '');
  // ~70% of the words, at least 6 (or all of a shorter memory), starting where the leftover allows.
  const len = Math.min(words.length, Math.max(6, Math.ceil(words.length * 0.7)));
  const start = Math.floor((words.length - len) / 2);
  return words
    .slice(start, start + len)
    .join(' ')
    .replace(/[.,;:]+$/u, '');
}

export function keywordQuery(content: string, r: Rand): string {
  const words = [...new Set((content.match(WORD) ?? []).map((w) => w.replace(/'s$/u, '')).filter((w) => w.length >= 3 && !QUERY_STOP.has(w.toLowerCase())))];
  // Shuffle (Fisher–Yates), then keep 3–5 of them.
  for (let i = words.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  return words.slice(0, Math.min(words.length, int(r, 3, 5))).join(' ');
}

/**
 * Candidate queries over the first `n` memories, alternating phrase and
 * keyword, each from its own target; targets do not repeat until every memory
 * was used. `stream` keeps separate query sets apart.
 */
function candidates(seed: number, n: number, count: number, stream: number): BenchQuery[] {
  const r = mulberry32(mix(seed ^ 0x5eed, stream));
  const used = new Set<number>();
  const out: BenchQuery[] = [];
  for (let q = 0; q < count; q++) {
    if (used.size >= n) used.clear();
    let target = Math.floor(r() * n);
    while (used.has(target)) target = (target + 1) % n;
    used.add(target);
    const { content } = memoryAt(seed, target);
    const kind: QueryKind = q % 2 === 0 ? 'phrase' : 'keyword';
    out.push({ kind, target, query: kind === 'phrase' ? phraseQuery(content) : keywordQuery(content, r) });
  }
  return out;
}

/**
 * A query counts as a fair test only when at most this many of the N memories
 * match it exactly (contain the phrase, or every keyword): otherwise even a
 * perfect ranker may leave the target out of the top 10 among look-alikes (at
 * 100,000 memories about 8% of 70% phrases had more than 10 exact matches).
 */
export const MAX_EXACT_MATCHES = 3;

const tokens = (text: string) => (text.match(WORD) ?? []).map((w) => w.toLowerCase().replace(/'s$/u, ''));

/**
 * Query sets of the given sizes (half phrase, half keyword, alternating), made
 * of candidates that match at most MAX_EXACT_MATCHES of the first `n` memories,
 * found in one pass over the corpus; if too few qualify, the most selective of
 * the rest fill in.
 */
export function querySets(seed: number, n: number, counts: readonly number[]): BenchQuery[][] {
  const pools = counts.map((c, s) => candidates(seed, n, c === 0 ? 0 : 3 * c + 8, s + 1));
  interface Probe {
    q: BenchQuery;
    phrase?: string;
    words?: string[];
    matches: number;
  }
  const probes: Probe[] = pools.flat().map((q) => (q.kind === 'phrase' ? { q, phrase: q.query.toLowerCase(), matches: 0 } : { q, words: tokens(q.query), matches: 0 }));
  // Each probe waits under one of its words; a memory is only checked against the probes of its own words.
  const byWord = new Map<string, Probe[]>();
  for (const p of probes) {
    const key = p.phrase !== undefined ? tokens(p.phrase)[0] : p.words![0];
    if (key === undefined) continue;
    const list = byWord.get(key) ?? [];
    list.push(p);
    byWord.set(key, list);
  }
  for (let i = 0; i < n; i++) {
    const content = memoryAt(seed, i).content.toLowerCase();
    const words = new Set(tokens(content));
    for (const w of words) {
      for (const p of byWord.get(w) ?? []) {
        if (p.matches > MAX_EXACT_MATCHES) continue;
        if (p.phrase !== undefined ? content.includes(p.phrase) : p.words!.every((x) => words.has(x))) p.matches++;
      }
    }
  }
  const matchesOf = new Map(probes.map((p) => [p.q, p.matches]));
  return counts.map((count, s) => {
    const pool = pools[s]!;
    const pick = (kind: QueryKind, want: number) => {
      const ofKind = pool.filter((q) => q.kind === kind);
      const fair = ofKind.filter((q) => matchesOf.get(q)! <= MAX_EXACT_MATCHES);
      const rest = ofKind.filter((q) => matchesOf.get(q)! > MAX_EXACT_MATCHES).sort((a, b) => matchesOf.get(a)! - matchesOf.get(b)!);
      return [...fair, ...rest].slice(0, want);
    };
    const phrases = pick('phrase', Math.ceil(count / 2));
    const keywords = pick('keyword', Math.floor(count / 2));
    return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? phrases[i / 2] : keywords[(i - 1) / 2])!);
  });
}
