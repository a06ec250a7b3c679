export { fakeChatAnswer } from './answers.js'
export { startFakeUpstream } from './fake-upstream.js'
export type { Fault, FakeUpstream, FakeUpstreamOptions, RecordedCall } from './types.js'
export { type RawExchangeOptions, type RawResponse, rawExchange } from './raw-http.js'
