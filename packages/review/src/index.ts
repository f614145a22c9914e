export { ReviewError, type ReviewErrorCode } from './errors.js'
export {
  reviewOf,
  wholeSummary,
  type Review,
  type ReviewFile,
  type ReviewLeftover,
  type ReviewNote,
  type ReviewObject,
  type ReviewOptions,
} from './model.js'
export { HTML_LIMITS, toHtml, type HtmlOptions } from './html.js'
export { toMarkdown, type MarkdownOptions } from './markdown.js'
