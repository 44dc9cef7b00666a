//! A generator of large, valid Weft programs, for the compile-time benchmark
//! and the startup check (`weft check` of 10,000 lines well under 100 ms).

use std::fmt::Write as _;

/// A program of about `lines` lines exercising most of the grammar: struct
/// types and methods, closures, loops of every form, switch, maps and lists.
pub fn large_program(lines: usize) -> String {
    let mut out =
        String::from("import \"fmt\"\nimport \"strings\"\n\ntype Point struct {\n\tx\n\ty\n}\n\n");
    let per_function = 25;
    let n = (lines / per_function).max(1);
    for i in 0..n {
        let _ = write!(
            out,
            r#"func (p Point) Method{i}(k) {{
	p.x += k * {i}
	return p.x + p.y
}}

func work{i}(xs, m) {{
	total := 0
	for j, v := range xs {{
		if v%2 == 0 && j > {i} {{
			total += v * j
		}} else if v > 100 {{
			continue
		}}
	}}
	counter := func() {{ total++; return total }}
	switch total % 3 {{
	case 0, 1:
		m["k{i}"] = append(m["k{i}"], counter())
	default:
		m["z"] = strings.Repeat("ab", 2) + fmt.Sprint(total)
	}}
	p := Point{{x: {i}, y: total}}
	return p.Method{i}(1), len(m)
}}

"#
        );
    }
    out.push_str("func main() {\n\tm := {}\n\txs := [1, 2, 3, 4, 5]\n");
    for i in 0..n {
        let _ = writeln!(out, "\tfmt.Println(work{i}(xs, m))");
    }
    out.push_str("}\n");
    out
}
