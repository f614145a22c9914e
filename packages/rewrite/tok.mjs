import Engine from 'php-parser'
const e = new Engine({ parser: { php8: true, suppressErrors: true }, lexer: { all_tokens: true, short_tags: false } })
const src = process.argv[2]
console.log(JSON.stringify(e.tokenGetAll(src)))
