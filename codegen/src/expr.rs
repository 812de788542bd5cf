//! The spec expression language: `ihl * 4 - 20`, `offset == 0`, `min(srcport, dstport)`.
//!
//! Expressions are parsed once at build time and turned into Rust that cannot panic:
//! arithmetic is on `u64`, subtraction and multiplication saturate, division and remainder
//! by zero give zero, shifts past the width give zero.

use proc_macro2::TokenStream;
use quote::quote;

/// The name a resolver answers, with the Rust of the payload's bytes (`&[u8]`), where
/// `payload(offset, width)` may be used: in `[payload]` rules.
pub const PAYLOAD_BYTES: &str = "payload()";

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Int(u64),
    Name(String),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    /// `sizeof(field)`: the length in bytes of an earlier field read over a `size` region
    /// (a switch, bytes, a list), with that `size` expression, which the checker puts in
    /// for the call. It reads the names its size reads.
    SizeOf(String, Box<Expr>),
}

/// The name a resolver may answer for `sizeof(field)` (Rust calling the field's own size
/// helper); a resolver that does not know it has the size expression written out instead.
pub fn sizeof_key(field: &str) -> String {
    format!("sizeof({field})")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    BitOr,
    BitXor,
    BitAnd,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// Binding strength, Rust's order: higher binds tighter.
    fn precedence(self) -> u8 {
        use BinOp::*;
        match self {
            Or => 1,
            And => 2,
            Eq | Ne | Lt | Le | Gt | Ge => 3,
            BitOr => 4,
            BitXor => 5,
            BitAnd => 6,
            Shl | Shr => 7,
            Add | Sub => 8,
            Mul | Div | Rem => 9,
        }
    }
}

/// The types an expression can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Bool,
    /// A one-bit range as the integer 0 or 1: a condition where a condition is wanted
    /// (`x != 0`), a number where a number is, and `!x` is `x == 0` (never `!(x != 0)`,
    /// which clippy rejects).
    Bit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Int(u64),
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

const OPERATORS: [&str; 22] = [
    "||", "&&", "==", "!=", "<=", ">=", "<<", ">>", "<", ">", "|", "^", "&", "+", "-", "*", "/",
    "%", "!", "(", ")", ",",
];

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let text = src[start..i].replace('_', "");
            let value = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16)
            } else {
                text.parse()
            };
            tokens.push(Token::Int(value.map_err(|_| {
                format!("bad number `{}` at column {}", &src[start..i], start + 1)
            })?));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token::Name(src[start..i].to_owned()));
        } else {
            let op = OPERATORS
                .iter()
                .find(|op| src[i..].starts_with(**op))
                .ok_or_else(|| format!("unexpected `{}` at column {}", c as char, i + 1))?;
            i += op.len();
            tokens.push(match *op {
                "(" => Token::LParen,
                ")" => Token::RParen,
                "," => Token::Comma,
                op => Token::Op(op),
            });
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(format!("expected {what}, found {}", describe(&t))),
            None => Err(format!("expected {what}, found the end")),
        }
    }

    fn binary_op(&self) -> Option<BinOp> {
        use BinOp::*;
        Some(match self.peek()? {
            Token::Op(op) => match *op {
                "||" => Or,
                "&&" => And,
                "==" => Eq,
                "!=" => Ne,
                "<" => Lt,
                "<=" => Le,
                ">" => Gt,
                ">=" => Ge,
                "|" => BitOr,
                "^" => BitXor,
                "&" => BitAnd,
                "<<" => Shl,
                ">>" => Shr,
                "+" => Add,
                "-" => Sub,
                "*" => Mul,
                "/" => Div,
                "%" => Rem,
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Precedence climbing; all binary operators are left-associative.
    fn expr(&mut self, min_prec: u8) -> Result<Expr, String> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.binary_op() {
            if op.precedence() < min_prec {
                break;
            }
            self.pos += 1;
            let rhs = self.expr(op.precedence() + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Op("!")) => Ok(Expr::Not(Box::new(self.unary()?))),
            Some(Token::Int(v)) => Ok(Expr::Int(v)),
            Some(Token::LParen) => {
                let inner = self.expr(0)?;
                self.expect(Token::RParen, "`)`")?;
                Ok(inner)
            }
            Some(Token::Name(name)) => {
                if self.peek() != Some(&Token::LParen) {
                    return Ok(Expr::Name(name));
                }
                self.pos += 1;
                let mut args = vec![self.expr(0)?];
                while self.peek() == Some(&Token::Comma) {
                    self.pos += 1;
                    args.push(self.expr(0)?);
                }
                self.expect(Token::RParen, "`)` after the arguments")?;
                Ok(Expr::Call(name, args))
            }
            Some(t) => Err(format!("expected a value, found {}", describe(&t))),
            None => Err("expected a value, found the end".to_owned()),
        }
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Int(v) => format!("number `{v}`"),
        Token::Name(n) => format!("`{n}`"),
        Token::Op(op) => format!("`{op}`"),
        Token::LParen => "`(`".to_owned(),
        Token::RParen => "`)`".to_owned(),
        Token::Comma => "`,`".to_owned(),
    }
}

impl Expr {
    /// Parses an expression; the error says what was expected and where.
    pub fn parse(src: &str) -> Result<Expr, String> {
        let tokens = tokenize(src)?;
        if tokens.is_empty() {
            return Err("empty expression".to_owned());
        }
        let mut parser = Parser { tokens, pos: 0 };
        let expr = parser.expr(0)?;
        if let Some(t) = parser.peek() {
            return Err(format!("unexpected {} after the expression", describe(t)));
        }
        Ok(expr)
    }

    /// The expression that holds exactly when this one does not: comparisons flip
    /// (`a >= 5` → `a < 5`), a negation drops, anything else gets a `!`.
    pub fn negated(&self) -> Expr {
        use BinOp::*;
        let flip = |op| match op {
            Eq => Some(Ne),
            Ne => Some(Eq),
            Lt => Some(Ge),
            Le => Some(Gt),
            Gt => Some(Le),
            Ge => Some(Lt),
            _ => None,
        };
        match self {
            Expr::Not(inner) => (**inner).clone(),
            Expr::Binary(op, a, b) => match flip(*op) {
                Some(f) => Expr::Binary(f, a.clone(), b.clone()),
                None => Expr::Not(Box::new(self.clone())),
            },
            _ => Expr::Not(Box::new(self.clone())),
        }
    }

    /// Every number written in the expression.
    pub fn literals(&self) -> Vec<u64> {
        match self {
            Expr::Int(v) => vec![*v],
            Expr::Name(_) => Vec::new(),
            Expr::Not(e) => e.literals(),
            Expr::Binary(_, a, b) => [a.literals(), b.literals()].concat(),
            Expr::Call(_, args) => args.iter().flat_map(Expr::literals).collect(),
            Expr::SizeOf(_, size) => size.literals(),
        }
    }

    /// Whether the expression calls the function `f`.
    pub fn calls(&self, f: &str) -> bool {
        match self {
            Expr::Int(_) | Expr::Name(_) => false,
            Expr::Not(e) => e.calls(f),
            Expr::Binary(_, a, b) => a.calls(f) || b.calls(f),
            Expr::Call(g, args) => g == f || args.iter().any(|a| a.calls(f)),
            Expr::SizeOf(_, size) => f == "sizeof" || size.calls(f),
        }
    }

    /// Every name the expression reads, in order of appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Int(_) => {}
            Expr::Name(n) => out.push(n),
            Expr::Not(e) => e.collect_names(out),
            Expr::Binary(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_names(out)),
            Expr::SizeOf(_, size) => size.collect_names(out),
        }
    }

    /// Emits Rust for this expression. `resolve` maps a name to Rust code and its type
    /// (`None` if the name is unknown, which is an error).
    pub fn to_rust(
        &self,
        resolve: &dyn Fn(&str) -> Option<(TokenStream, Ty)>,
    ) -> Result<(TokenStream, Ty), String> {
        use BinOp::*;
        Ok(match self {
            Expr::Int(v) => {
                let lit = proc_macro2::Literal::u64_unsuffixed(*v);
                (quote!(#lit), Ty::Int)
            }
            Expr::Name(n) => resolve(n).ok_or_else(|| format!("unknown name `{n}`"))?,
            Expr::SizeOf(field, size) => match resolve(&sizeof_key(field)) {
                Some(code) => code,
                None => size.to_rust(resolve)?,
            },
            Expr::Call(f, _) if f == "sizeof" => {
                return Err(
                    "`sizeof(field)` takes the name of an earlier field with a `size`".to_owned(),
                );
            }
            // A negated comparison is the opposite comparison, a negated number a test
            // for zero: `!` only ever applies to a real `bool`.
            Expr::Not(e)
                if matches!(**e, Expr::Binary(..)) && !matches!(e.negated(), Expr::Not(_)) =>
            {
                e.negated().to_rust(resolve)?
            }
            Expr::Not(e) => match e.to_rust(resolve)? {
                (code, Ty::Bool) => (quote!((!#code)), Ty::Bool),
                (code, Ty::Int) => (quote!((#code == 0)), Ty::Bool),
                (code, Ty::Bit) => {
                    let code = bare(code);
                    (quote!((#code == 0)), Ty::Bool)
                }
            },
            Expr::Call(f, args) if f == "if" => {
                let [c, a, b] = args.as_slice() else {
                    return Err("`if` takes three arguments: if(condition, then, else)".to_owned());
                };
                let c = bare(c.bool_operand(resolve)?);
                let (a, b) = (bare(a.int_operand(resolve)?), bare(b.int_operand(resolve)?));
                (quote!((if #c { #a } else { #b })), Ty::Int)
            }
            Expr::Call(f, args) if f == "payload" => {
                let Some((bytes, _)) = resolve(PAYLOAD_BYTES) else {
                    return Err(
                        "`payload(offset, width)` is only known in `[payload]` rules (`when`, `key`)"
                            .to_owned(),
                    );
                };
                let [o, w] = args.as_slice() else {
                    return Err("`payload` takes two arguments: payload(offset, width)".to_owned());
                };
                let (o, w) = (bare(o.int_operand(resolve)?), bare(w.int_operand(resolve)?));
                (quote!(crate::wire::peek_uint(#bytes, #o, #w)), Ty::Int)
            }
            Expr::Call(f, _) if f != "min" && f != "max" => {
                return Err(format!(
                    "unknown function `{f}` (known: min, max, if, payload, sizeof)"
                ));
            }
            Expr::Call(f, args) => {
                let [a, b] = args.as_slice() else {
                    return Err(format!("`{f}` takes two arguments"));
                };
                let (a, b) = (bare(a.int_operand(resolve)?), bare(b.int_operand(resolve)?));
                match f.as_str() {
                    "min" => (quote!(::core::cmp::min(#a, #b)), Ty::Int),
                    "max" => (quote!(::core::cmp::max(#a, #b)), Ty::Int),
                    _ => {
                        return Err(format!(
                            "unknown function `{f}` (known: min, max, if, payload, sizeof)"
                        ))
                    }
                }
            }
            Expr::Binary(op @ (Or | And), a, b) => {
                let (a, b) = (a.bool_operand(resolve)?, b.bool_operand(resolve)?);
                let code = if *op == Or {
                    quote!((#a || #b))
                } else {
                    quote!((#a && #b))
                };
                (code, Ty::Bool)
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (a.int_operand(resolve)?, b.int_operand(resolve)?);
                // Operators written as calls take their operands bare.
                let (x, y) = (bare(a.clone()), bare(b.clone()));
                let code = match op {
                    Eq => return Ok((quote!((#a == #b)), Ty::Bool)),
                    Ne => return Ok((quote!((#a != #b)), Ty::Bool)),
                    Lt => return Ok((quote!((#a < #b)), Ty::Bool)),
                    Le => return Ok((quote!((#a <= #b)), Ty::Bool)),
                    Gt => return Ok((quote!((#a > #b)), Ty::Bool)),
                    Ge => return Ok((quote!((#a >= #b)), Ty::Bool)),
                    BitOr => quote!((#a | #b)),
                    BitXor => quote!((#a ^ #b)),
                    BitAnd => quote!((#a & #b)),
                    Shl => {
                        quote!(u64::checked_shl(#x, u32::try_from(#y).unwrap_or(u32::MAX)).unwrap_or(0))
                    }
                    Shr => {
                        quote!(u64::checked_shr(#x, u32::try_from(#y).unwrap_or(u32::MAX)).unwrap_or(0))
                    }
                    Add => quote!(u64::saturating_add(#x, #y)),
                    Sub => quote!(u64::saturating_sub(#x, #y)),
                    Mul => quote!(u64::saturating_mul(#x, #y)),
                    Div => quote!(u64::checked_div(#x, #y).unwrap_or(0)),
                    Rem => quote!(u64::checked_rem(#x, #y).unwrap_or(0)),
                    Or | And => unreachable!("handled above"),
                };
                (code, Ty::Int)
            }
        })
    }

    /// Rust for this expression as a `u64` (a boolean counts as 0 or 1), without outer
    /// parentheses: for a function argument, a condition or a return value.
    pub fn to_int(
        &self,
        resolve: &dyn Fn(&str) -> Option<(TokenStream, Ty)>,
    ) -> Result<TokenStream, String> {
        self.int_operand(resolve).map(bare)
    }

    /// Rust for this expression as a `bool` (a number is true when not zero), without
    /// outer parentheses.
    pub fn to_bool(
        &self,
        resolve: &dyn Fn(&str) -> Option<(TokenStream, Ty)>,
    ) -> Result<TokenStream, String> {
        self.bool_operand(resolve).map(bare)
    }

    fn int_operand(
        &self,
        resolve: &dyn Fn(&str) -> Option<(TokenStream, Ty)>,
    ) -> Result<TokenStream, String> {
        let (code, ty) = self.to_rust(resolve)?;
        Ok(match ty {
            Ty::Int | Ty::Bit => code,
            Ty::Bool => {
                let code = bare(code);
                quote!(u64::from(#code))
            }
        })
    }

    pub(crate) fn bool_operand(
        &self,
        resolve: &dyn Fn(&str) -> Option<(TokenStream, Ty)>,
    ) -> Result<TokenStream, String> {
        // A constant condition (`show = "0"`: never shown) is written as one, not as
        // `0 != 0`, which clippy rejects.
        if let Expr::Int(n) = self {
            return Ok(if *n != 0 { quote!(true) } else { quote!(false) });
        }
        let (code, ty) = self.to_rust(resolve)?;
        Ok(match ty {
            Ty::Bool => code,
            Ty::Int => quote!((#code != 0)),
            Ty::Bit => {
                let code = bare(code);
                quote!((#code != 0))
            }
        })
    }
}

/// `code` without the parentheses around all of it, if it has them.
pub fn bare(code: TokenStream) -> TokenStream {
    let mut tokens = code.clone().into_iter();
    match (tokens.next(), tokens.next()) {
        (Some(proc_macro2::TokenTree::Group(g)), None)
            if g.delimiter() == proc_macro2::Delimiter::Parenthesis =>
        {
            bare(g.stream())
        }
        _ => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Expr {
        Expr::parse(s).unwrap()
    }

    #[test]
    fn precedence_follows_rust() {
        use BinOp::*;
        let e = parse("len - ihl * 4");
        let Expr::Binary(Sub, _, rhs) = e else {
            panic!("{e:?}")
        };
        assert!(matches!(*rhs, Expr::Binary(Mul, _, _)));
        let e = parse("a & 1 == 0");
        assert!(matches!(e, Expr::Binary(Eq, _, _)), "{e:?}");
        let e = parse("a == 1 || b == 2 && c");
        assert!(matches!(e, Expr::Binary(Or, _, _)), "{e:?}");
        let e = parse("8 - 2 - 1");
        let Expr::Binary(Sub, lhs, _) = e else {
            panic!()
        };
        assert!(matches!(*lhs, Expr::Binary(Sub, _, _)), "left-associative");
    }

    #[test]
    fn numbers_and_calls() {
        assert_eq!(parse("0x0600"), Expr::Int(0x600));
        assert_eq!(parse("1_000"), Expr::Int(1000));
        assert_eq!(
            parse("min(srcport, dstport)"),
            Expr::Call(
                "min".into(),
                vec![Expr::Name("srcport".into()), Expr::Name("dstport".into())]
            )
        );
        assert_eq!(parse("!(a)").names(), vec!["a"]);
        assert_eq!(parse("if(a == 0, 1, a)").names(), vec!["a", "a"]);
    }

    #[test]
    fn negation_flips_comparisons() {
        assert_eq!(parse("a >= 5").negated(), parse("a < 5"));
        assert_eq!(parse("a == 1").negated(), parse("a != 1"));
        assert_eq!(parse("!a").negated(), parse("a"));
        assert_eq!(parse("a && b").negated(), parse("!(a && b)"));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            Expr::parse("a + ").unwrap_err(),
            "expected a value, found the end"
        );
        assert_eq!(
            Expr::parse("a $ b").unwrap_err(),
            "unexpected `$` at column 3"
        );
        assert_eq!(
            Expr::parse("(a + b").unwrap_err(),
            "expected `)`, found the end"
        );
        assert_eq!(
            Expr::parse("a b").unwrap_err(),
            "unexpected `b` after the expression"
        );
        assert!(Expr::parse("0xZZ").unwrap_err().starts_with("bad number"));
        assert_eq!(Expr::parse("  ").unwrap_err(), "empty expression");
    }

    #[test]
    fn unknown_names_and_functions_are_errors() {
        let resolve = |n: &str| (n == "a").then(|| (quote!(a), Ty::Int));
        assert_eq!(
            parse("a + b").to_rust(&resolve).unwrap_err(),
            "unknown name `b`"
        );
        assert!(parse("abs(a, a)")
            .to_rust(&resolve)
            .unwrap_err()
            .starts_with("unknown function `abs`"));
        assert_eq!(
            parse("min(a)").to_rust(&resolve).unwrap_err(),
            "`min` takes two arguments"
        );
    }

    #[test]
    fn types_are_inferred_and_coerced() {
        let resolve = |n: &str| match n {
            "flag" => Some((quote!(flag), Ty::Bool)),
            _ => Some((quote!(x), Ty::Int)),
        };
        assert_eq!(parse("x == 1").to_rust(&resolve).unwrap().1, Ty::Bool);
        assert_eq!(parse("x + flag").to_rust(&resolve).unwrap().1, Ty::Int);
        let code = parse("x").to_bool(&resolve).unwrap().to_string();
        assert!(code.contains("!= 0"), "{code}");
    }

    /// `!` never lands on a comparison or a number (clippy's `nonminimal_bool` rejects
    /// `!(x != 0)`): it flips comparisons and tests numbers and one-bit ranges for zero.
    #[test]
    fn negations_are_minimal() {
        let resolve = |n: &str| match n {
            "flag" => Some((quote!(flag), Ty::Bool)),
            "bit" => Some((quote!(((c >> 3) & 1)), Ty::Bit)),
            _ => Some((quote!(x), Ty::Int)),
        };
        let rust = |src: &str| parse(src).to_bool(&resolve).unwrap().to_string();
        assert_eq!(rust("!bit"), "(c >> 3) & 1 == 0");
        assert_eq!(rust("!x"), "x == 0");
        assert_eq!(rust("!(x == 1)"), "x != 1");
        assert_eq!(rust("!(x < 1)"), "x >= 1");
        assert_eq!(rust("!flag"), "! flag");
        assert_eq!(rust("!bit && x > 2"), "((c >> 3) & 1 == 0) && (x > 2)");
        assert_eq!(rust("bit"), "(c >> 3) & 1 != 0");
        // A constant is a constant (`show = "0"`), not `0 != 0`.
        assert_eq!(rust("0"), "false");
        assert_eq!(rust("7"), "true");
        // As a number, a bit is its value.
        let sum = parse("bit + 1").to_int(&resolve).unwrap().to_string();
        assert_eq!(sum, "u64 :: saturating_add ((c >> 3) & 1 , 1)");
    }
}
