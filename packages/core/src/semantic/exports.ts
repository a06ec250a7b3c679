// The semantic tier's public parts: interfaces, indexes, judges and guards.
export type { Embedder, SemanticIndex, SemanticJudge, SemanticNeighbour, SemanticRejection } from './types.js'
export { createFlatIndex } from './index-flat.js'
export { thresholdJudge } from './judge-threshold.js'
export { createGuardedJudge, defaultGuards, defaultSemanticJudge, defaultSemanticThreshold } from './judge-guarded.js'
export type { GuardedJudgeOptions } from './judge-guarded.js'
export { entitiesGuard, negationGuard, numbersGuard } from './guards.js'
export type { SemanticGuard } from './guards.js'
export { lexicalSimilarity } from './lexical.js'
